"""Command-line options refused with one line; the program names itself as called."""
import subprocess
import sys

import pytest

from autograder import cli


@pytest.mark.parametrize("mb", ["5", "50", "200"])
def test_memory_too_small_for_python_is_refused_in_one_line(mb, capsys):
    with pytest.raises(SystemExit) as e:
        cli.build_parser().parse_args(["grade", "subs", "--out", "o", "--memory", mb])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"{mb} MB is too little" in err
    assert f"at least {cli.MIN_MEMORY_MB}" in err


def test_enough_memory_is_accepted():
    args = cli.build_parser().parse_args(["grade", "s", "--out", "o", "--memory", "256"])
    assert args.memory == 256


def test_help_names_the_console_script(tmp_path):
    script = tmp_path / "softmax-autograder"
    script.write_text("import sys\nfrom autograder.cli import main\nsys.exit(main())\n")
    r = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True)
    assert r.stdout.startswith("usage: softmax-autograder ")
    r = subprocess.run([sys.executable, "-m", "autograder", "--help"], capture_output=True,
                       text=True)
    assert r.stdout.startswith("usage: python -m autograder ")


def test_the_graders_blas_starts_with_one_thread_unless_the_user_chose(tmp_path):
    """Set before NumPy is imported (it is limited to one thread to grade anyway): its
    import starts no other thread; a count the user set is left as it is."""
    code = ("import os, sys\n"
            "class Seen:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'numpy':\n"
            "            print(os.environ.get('OPENBLAS_NUM_THREADS'),\n"
            "                  os.environ.get('OMP_NUM_THREADS'), 'at the import of numpy')\n"
            "sys.meta_path.insert(0, Seen())\n"
            "from autograder import cli\n"
            "cli.main(['grade', sys.argv[1], '--out', sys.argv[2], '--unsafe-no-sandbox'])\n")
    env = {k: v for k, v in __import__("os").environ.items()
           if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    args = [sys.executable, "-c", code, str(tmp_path / "missing"), str(tmp_path / "o")]
    r = subprocess.run(args, capture_output=True, text=True, env=env)
    assert r.stdout.splitlines() == ["1 1 at the import of numpy"]
    r = subprocess.run(args, capture_output=True, text=True, env={**env, "OMP_NUM_THREADS": "3"})
    assert r.stdout.splitlines() == ["1 3 at the import of numpy"]

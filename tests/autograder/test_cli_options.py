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

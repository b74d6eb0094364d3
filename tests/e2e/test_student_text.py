"""Student text that is not valid Unicode changes nobody else's outputs (issue 15, item 2).

One batch of honest students is graded with and without a student whose every string is
invalid: a folder name of invalid UTF-8 bytes, a notebook whose JSON escapes lone
surrogates into every cell, grade id and kernel name, and code whose every function raises,
warns and prints with lone surrogates and invalid bytes. Every honest student's files are
byte for byte the same in both; the odd student gets a row, files of valid UTF-8, and a
re-run that exits 0.
"""
import csv
import json
import os
import re
from pathlib import Path

import pytest

from autograder.assignments.softmax.samples import build, mistake_overrides, write

from .conftest import run_grader

pytestmark = pytest.mark.slow

HONEST = {"ann": lambda: build(), "bob": lambda: build(mistake_overrides("naive_reg_2x"))}
BAD = "\udc80\ud800<b>\udfff"              # lone surrogates (and markup) in every string
BAD_FOLDER = b"\xff\xfe-odd-\xc3("           # not UTF-8

RAISE = f'''
import os, sys, warnings
def _bad(*args, **kwargs):
    warnings.warn({BAD!r})
    sys.stdout.write({BAD!r}.encode("utf-8", "surrogatepass").decode("utf-8", "replace"))
    os.write(1, b"\\xff\\xfe" + {BAD!r}.encode("utf-8", "surrogatepass"))
    raise ValueError({BAD!r} * 3)
'''
CELLS = {
    "softmax": RAISE + "def softmax(x):\n    return _bad(x)",
    "softmax_backward": RAISE + "def softmax_backward(dout, y):\n    return _bad()",
    "cross_entropy_error": RAISE + "def cross_entropy_error(y, t):\n    return _bad()",
    "SoftmaxWithLoss": RAISE + ("class SoftmaxWithLoss:\n    def forward(self, x, t):\n"
                                "        return _bad()\n    def backward(self, dout=1):\n"
                                "        return _bad()"),
    "softmax_loss_naive": RAISE + "def softmax_loss_naive(W, X, y, reg):\n    return _bad()",
    "softmax_loss_vectorized": RAISE + ("def softmax_loss_vectorized(W, X, y, reg):\n"
                                        "    return _bad()"),
}


def write_invalid_student(subs):
    nb = build(CELLS)
    nb.metadata["kernelspec"] = {"name": BAD, "display_name": BAD, "language": BAD}
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source += "\n\n" + BAD
    nb.cells.append({"cell_type": "raw", "metadata": {}, "source": BAD})
    nb.cells.append({"cell_type": "code", "metadata": {"nbgrader": {"grade_id": BAD}},
                     "execution_count": None, "outputs": [], "source": f"x = {BAD!r}"})
    folder = os.path.join(os.fsencode(subs), BAD_FOLDER)
    os.makedirs(folder)
    # json.dumps escapes each lone surrogate as \udc80: valid JSON, invalid text.
    with open(os.path.join(folder, b"softmax.ipynb"), "w", encoding="ascii") as f:
        f.write(json.dumps(nb))


def _grade(tmp_path, name, with_invalid):
    subs, out = tmp_path / f"subs-{name}", tmp_path / f"out-{name}"
    for sid, make in HONEST.items():
        write(subs, sid, make())
    if with_invalid:
        write_invalid_student(subs)
    r = run_grader("grade", subs, "--out", out, "--no-progress", "--timeout", "8",
                   "--gradebook", "yes")
    assert r.returncode == 0, r.stderr[-3000:]
    return subs, out, r


def _rows(out):
    lines = (out / "grades.csv").read_bytes().splitlines()
    return {next(csv.reader([ln.decode()]))[0]: ln for ln in lines[1:]}, lines[0]


def _gradebook(out, sid):
    """The student's automatic scores and comments in OUT/gradebook.db, through nbgrader."""
    from nbgrader.api import Gradebook
    from autograder.assignment import load_spec
    from autograder.assignments.softmax import ASSIGNMENT
    spec = load_spec(ASSIGNMENT)
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        return ([(t.grade_id, gb.find_grade(t.grade_id, "softmax", "softmax", sid).auto_score)
                 for t in spec.tests]
                + [(c, gb.find_comment(c, "softmax", "softmax", sid).auto_comment)
                   for c in spec.solution_ids])


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("invalid-text")
    return _grade(tmp, "alone", False), _grade(tmp, "with", True)


# The speed check's pass message quotes the ratio it measured ("11x faster than a loop"),
# which differs from one run to the next of the very same batch: that number alone is
# masked; every other byte must match.
MEASURED = re.compile(r"\d+(\.\d+)?x faster")


def _same_run(data):
    return MEASURED.sub("Nx faster", data.decode("utf-8") if isinstance(data, bytes) else data)


def test_every_other_students_outputs_are_byte_identical(both):
    (_, alone, _), (_, mixed, _) = both
    for sid in HONEST:
        for rel in (f"feedback/{sid}/softmax.html", f"gradescope/{sid}/results.json",
                    f"autograded/{sid}/softmax/softmax.ipynb"):
            assert _same_run((alone / rel).read_bytes()) == _same_run((mixed / rel).read_bytes()), rel
        assert [tuple(map(_same_run, map(str, row))) for row in _gradebook(alone, sid)] == \
            [tuple(map(_same_run, map(str, row))) for row in _gradebook(mixed, sid)], sid
    rows_alone, head_alone = _rows(alone)
    rows_mixed, head_mixed = _rows(mixed)
    assert head_alone == head_mixed
    assert {sid: rows_mixed[sid] for sid in HONEST} == {sid: rows_alone[sid] for sid in HONEST}


def test_the_invalid_student_has_a_row_and_only_valid_text_files(both):
    _, (subs, out, r) = both
    rows, _ = _rows(out)
    odd = [sid for sid in rows if sid not in HONEST]
    assert len(odd) == 1, rows.keys()
    assert rows[odd[0]].split(b",")[1] == b"0"
    for p in Path(out).rglob("*"):
        if p.is_file() and p.suffix in (".html", ".json", ".ipynb", ".csv", ".py"):
            text = p.read_bytes().decode("utf-8")       # strict: valid UTF-8
            if p.suffix in (".json", ".ipynb"):
                # JSON may escape a lone surrogate as \udc80: none may be in any string.
                json.dumps(json.loads(text), ensure_ascii=False).encode("utf-8")
    assert "\ufffd" in "".join(p.read_text() for p in (out / "feedback").rglob("*.html")
                               if p.parent.name not in HONEST)
    (r.stdout + r.stderr).encode("utf-8")
    assert "Traceback" not in r.stderr


def test_a_rerun_with_the_invalid_student_exits_0_with_the_same_grades(both):
    _, (subs, out, _) = both
    before = (out / "grades.csv").read_bytes()
    r = run_grader("grade", subs, "--out", out, "--no-progress", "--timeout", "8",
                   "--gradebook", "yes")
    assert r.returncode == 0, r.stderr[-3000:]
    assert (out / "grades.csv").read_bytes() == before


def test_gradescope_grades_the_invalid_student_like_any_other(tmp_path):
    """On Gradescope the same notebook is graded and counted (it was "Not graded ...
    (UnicodeEncodeError)", uncounted by max_graded): a valid results.json of valid text."""
    import shutil

    from autograder.gradescope import run as gsrun
    from autograder.gradescope.schema import problems
    write_invalid_student(tmp_path / "subs")
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    shutil.copy(os.path.join(os.fsencode(tmp_path / "subs"), BAD_FOLDER, b"softmax.ipynb"),
                root / "submission" / "softmax.ipynb")
    (root / "submission_metadata.json").write_text(json.dumps(
        {"id": 1, "created_at": "2026-11-23T09:00:00Z", "previous_submissions": [],
         "assignment": {"due_date": "2026-12-01T00:00:00Z"}}))
    doc = gsrun.run(root, sandbox="bubblewrap")
    assert not problems(doc), problems(doc)
    stored = json.loads((root / "results" / "results.json").read_bytes().decode("utf-8"))
    json.dumps(stored, ensure_ascii=False).encode("utf-8")
    assert stored["extra_data"]["graded"] is True, stored["output"]
    assert "Not graded" not in stored["output"] and stored["score"] == 0
    assert any("\ufffd" in t["output"] for t in stored["tests"])

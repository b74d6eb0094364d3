"""End to end through the CLI: perfect, blank, every catalogued mistake, styles."""
import json
from pathlib import Path

import pytest

from autograder.assignment import load_spec
from autograder.assignments.softmax import ASSIGNMENT
from autograder.assignments.softmax.samples import build, mistake_overrides, write
from autograder.assignments.softmax.samples.mistakes import MISTAKES
from autograder.assignments.softmax.samples.styles import STYLES

from .conftest import read_grades, run_grader

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    subs = tmp_path_factory.mktemp("subs")
    write(subs, "perfect", build())
    write(subs, "blank", build(perfect=False))
    for name in MISTAKES:
        write(subs, f"mistake-{name}", build(mistake_overrides(name)))
    for name, cells in STYLES.items():
        write(subs, f"style-{name}", build(cells))
    # nbgrader's own layout is accepted too.
    write(subs / "nbgrader-layout", "softmax", build())
    out = tmp_path_factory.mktemp("out")
    r = run_grader("grade", subs, "--out", out, "--jobs", "2", "--no-progress")
    assert r.returncode == 0, r.stderr[-3000:]
    return subs, out, read_grades(out), r


def test_perfect_gets_full_marks_and_blank_gets_zero(graded):
    _, _, grades, _ = graded
    spec = load_spec(ASSIGNMENT)
    assert float(grades["perfect"]["score"]) == spec.max_score
    assert grades["perfect"]["flags"] == ""
    assert float(grades["blank"]["score"]) == 0
    assert float(grades["nbgrader-layout"]["score"]) == spec.max_score


def test_grades_csv_has_one_column_per_test_cell(graded):
    _, out, grades, _ = graded
    header = (Path(out) / "grades.csv").read_text().splitlines()[0].split(",")
    assert header[:4] == ["student_id", "score", "max_score", "flags"]
    assert header[4:] == [t.grade_id for t in load_spec(ASSIGNMENT).tests]
    for row in grades.values():
        assert float(row["score"]) == pytest.approx(sum(float(row[c]) for c in header[4:]))


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_each_mistake_loses_points_with_its_hint(graded, name):
    _, out, grades, _ = graded
    _cell, _src, test_id, mistake = MISTAKES[name]
    row = grades[f"mistake-{name}"]
    assert float(row[test_id]) == 0
    assert float(row["score"]) < load_spec(ASSIGNMENT).max_score
    results = json.loads((Path(out) / "gradescope" / f"mistake-{name}" / "results.json").read_text())
    test = next(t for t in results["tests"] if t["tags"] == [test_id, "hidden"])
    from autograder.assignments.softmax.mistakes import HINTS
    assert HINTS[mistake] in test["output"]
    html = (Path(out) / "feedback" / f"mistake-{name}" / "softmax.html").read_text()
    import html as h
    assert HINTS[mistake] in h.unescape(html)


@pytest.mark.parametrize("name", sorted(STYLES))
def test_correct_styles_get_full_marks(graded, name):
    _, _, grades, _ = graded
    assert float(grades[f"style-{name}"]["score"]) == load_spec(ASSIGNMENT).max_score


def test_feedback_leaks_no_hidden_test_or_reference(graded):
    _, out, _, _ = graded
    for html in (Path(out) / "feedback").rglob("*.html"):
        text = html.read_text()
        assert "HIDDEN TESTS" not in text and "autograder.hidden" not in text
        assert "reference" not in text.lower()


def test_gradescope_results_json_format(graded):
    _, out, grades, _ = graded
    for sid in grades:
        data = json.loads((Path(out) / "gradescope" / sid / "results.json").read_text())
        assert data["score"] == pytest.approx(float(grades[sid]["score"]))
        for t in data["tests"]:
            assert {"name", "score", "max_score", "output"} <= set(t)


def test_summary_table_and_histogram(graded):
    _, out, _, r = graded
    assert "passed" in r.stdout and "test" in r.stdout
    assert (Path(out) / "score_histogram.png").read_bytes()[:4] == b"\x89PNG"
    assert (Path(out) / "gradebook.db").exists()


def test_gradebook_holds_the_scores(graded):
    from nbgrader.api import Gradebook
    _, out, grades, _ = graded
    with Gradebook(f"sqlite:///{Path(out) / 'gradebook.db'}") as gb:
        sub = gb.find_submission("softmax", "perfect")
        assert sub.score == pytest.approx(float(grades["perfect"]["score"]))


def test_rerun_gives_same_grades_and_resumes(graded, tmp_path):
    subs, out, _, _ = graded
    before = (Path(out) / "grades.csv").read_text()
    (Path(out) / "results" / "perfect.json").unlink()      # as if interrupted
    r = run_grader("grade", subs, "--out", out, "--jobs", "2", "--no-progress")
    assert r.returncode == 0, r.stderr[-2000:]
    assert (Path(out) / "grades.csv").read_text() == before


@pytest.mark.parametrize("args, words", [
    (["grade", "/no/such/folder", "--out", "OUT"], "no such folder"),
    (["grade", ".", "--out", "OUT", "--jobs", "zero"], "--jobs"),
    (["grade", ".", "--out", "OUT", "--timeout", "-1"], "--timeout"),
    (["grade"], "required"),
])
def test_usage_errors_are_one_line(args, words, tmp_path):
    r = run_grader(*[a.replace("OUT", str(tmp_path / "o")) for a in args])
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], r.stderr


def test_empty_folder_is_a_usage_error(tmp_path):
    (tmp_path / "subs").mkdir()
    r = run_grader("grade", tmp_path / "subs", "--out", tmp_path / "o")
    assert r.returncode == 2 and "no submissions" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1

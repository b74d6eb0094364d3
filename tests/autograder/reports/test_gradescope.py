"""results.json in Gradescope's format: fields, visibilities, and nothing that leaks a late test."""
import json

import pytest

from autograder.gradescope.schema import problems
from autograder.reports.gradescope import MAX_TEST_OUTPUT, results_json
from autograder.results import StudentResult, TestResult


class Spec:
    max_score = 6.0


def result(flags=(), problem="", message="wrong shape"):
    return StudentResult("s1", "sha", "g", tests=[
        TestResult("test_a", 2.0, 2.0, True),
        TestResult("test_b", 0.0, 2.0, False, message, "m", "look at the axis"),
        TestResult("test_c_speed", 2.0, 2.0, True, "17x faster"),
    ], flags=list(flags), problem=problem)


VIS = {"test_a": "visible", "test_b": "after_due_date", "test_c_speed": "after_due_date"}


def test_all_visible_by_default_with_the_spec_fields():
    doc = results_json(result(), Spec(), execution_time=3.4)
    assert problems(doc) == []
    assert doc["score"] == 4.0 and doc["execution_time"] == 3
    assert doc["stdout_visibility"] == "hidden"
    assert doc["output"].startswith("Score: 4 / 6")
    b = doc["tests"][1]
    assert (b["name"], b["score"], b["max_score"], b["status"], b["visibility"]) == \
        ("b", 0.0, 2.0, "failed", "visible")
    assert "wrong shape" in b["output"] and "Hint: look at the axis" in b["output"]
    assert [t["tags"] for t in doc["tests"]] == [["test_a"], ["test_b"], ["test_c_speed"]]


def test_late_tests_leave_no_trace_in_what_is_shown_now():
    doc = results_json(result(), Spec(), visibility=VIS)
    assert problems(doc) == []
    assert [t["visibility"] for t in doc["tests"]] == ["visible", "after_due_date", "after_due_date"]
    # The top-level output counts the visible test only: no total that moves
    # with the hidden ones.
    assert "Tests shown now: 2 / 2 points." in doc["output"]
    assert "2 tests (4 points) use hidden inputs" in doc["output"]
    assert "4 /" not in doc["output"] and "Score" not in doc["output"]
    assert "axis" not in doc["output"]


def test_the_score_still_counts_every_test():
    assert results_json(result(), Spec(), visibility=VIS)["score"] == 4.0


def test_run_time_problems_are_as_late_as_the_latest_test():
    doc = results_json(result(flags=["timeout", "tampering"]), Spec(), visibility=VIS)
    extra = doc["tests"][-1]
    assert extra["name"] == "Problems while running your code"
    assert extra["visibility"] == "after_due_date" and extra["max_score"] == 0
    assert "time limit" in extra["output"]
    assert "time limit" not in doc["output"]        # it could map a hidden input
    assert "test cell was changed" in doc["output"]  # about the notebook: shown now
    assert problems(doc) == []


def test_a_submission_that_could_not_be_read_says_so_at_the_top():
    r = result(flags=["invalid_notebook"], problem="the notebook could not be read (NotJSONError)")
    doc = results_json(r, Spec(), visibility=VIS)
    assert doc["output"].startswith("Not graded: the notebook could not be read")
    assert "could not be read" in doc["output"]


def test_student_text_is_bounded_and_plain():
    doc = results_json(result(message="x" * 100_000), Spec())
    assert len(doc["tests"][1]["output"]) <= MAX_TEST_OUTPUT
    assert all(t["output_format"] == "text" for t in doc["tests"])
    assert doc["output_format"] == "text"
    json.dumps(doc, allow_nan=False)


@pytest.mark.parametrize("bad, words", [
    ({"score": "4"}, "results.score"),
    ({"score": 1, "tests": [{"score": 1, "visibility": "later"}]}, "visibility"),
    ({"score": 1, "tests": [{"status": "ok"}]}, "status"),
    ({"score": float("nan")}, "finite"),
    ({"score": 1, "execution_time": 1.5}, "execution_time"),
    ({"tests": [{"name": "x"}]}, "no top-level score"),
    ({"score": 1, "tests": [{"tags": [1]}]}, "tags"),
    ({"score": 1, "colour": "red"}, "unknown field"),
    ([], "JSON object"),
])
def test_the_schema_check_catches(bad, words):
    assert any(words in p for p in problems(bad))


@pytest.mark.parametrize("sid", ["../../escape", "a/b", "..", "=cmd|' calc'!A0", "José"])
def test_any_student_id_writes_inside_out(tmp_path, sid):
    from autograder.reports.gradescope import write_gradescope
    r = result()
    r.student_id = sid
    out = tmp_path / "out"
    write_gradescope(r, Spec(), out)
    written = [p for p in tmp_path.rglob("results.json")]
    assert len(written) == 1 and (out / "gradescope") in written[0].parents

"""results.json in Gradescope's format: fields, visibilities, and nothing that leaks a late test."""
import json

import pytest

from autograder.gradescope.schema import problems
from autograder.report.gradescope import MAX_TEST_OUTPUT, results_json
from autograder.model import (READING, STARTUP, NotebookCheck, Spec, StudentResult, TestCell,
                              TestResult, Visibility)
from autograder.report.visibility import Policy

SPEC = Spec("hw", ("a", "b", "c"), (TestCell("test_a", 2.0, (), "a"),
                                    TestCell("test_b", 2.0, (), "b"),
                                    TestCell("test_c_speed", 2.0, (), "c")))


def result(flags=(), problem="", message="wrong shape", raised=None):
    """`raised`: flag -> where; by default every flag was raised while test_b ran."""
    return StudentResult("s1", "sha", "g", tests=[
        TestResult("test_a", 2.0, 2.0, True),
        TestResult("test_b", 0.0, 2.0, False, message, "m", "look at the axis"),
        TestResult("test_c_speed", 2.0, 2.0, True, "17x faster"),
    ], flags=list(flags), problem=problem,
        raised=raised if raised is not None else {f: "test_b" for f in flags})


# test_a's asserts are all in the notebook; the other two have hidden tests.
HIDDEN = {"test_b", "test_c_speed"}
POLICY = Policy()


def late(r, **kw):
    return results_json(r, SPEC, policy=POLICY, hidden_cells=HIDDEN, **kw)


def test_all_visible_by_default_with_the_spec_fields():
    doc = results_json(result(), SPEC, execution_time=3.4)
    assert problems(doc) == []
    assert doc["score"] == 4.0 and doc["execution_time"] == 3
    assert doc["stdout_visibility"] == "hidden"
    assert doc["output"].startswith("Score: 4 / 6")
    b = doc["tests"][1]
    assert (b["name"], b["score"], b["max_score"], b["status"], b["visibility"]) == \
        ("b", 0.0, 2.0, "failed", "visible")
    assert "wrong shape" in b["output"] and "Hint: look at the axis" in b["output"]
    assert [t["tags"][0] for t in doc["tests"]] == ["test_a", "test_b", "test_c_speed"]


def test_late_tests_leave_no_trace_in_what_is_shown_now():
    doc = late(result())
    assert problems(doc) == []
    assert [t["visibility"] for t in doc["tests"]] == ["visible", "after_due_date", "after_due_date"]
    # The top-level output counts the visible test only: no total that moves
    # with the hidden ones.
    assert "Tests shown now: 2 / 2 points." in doc["output"]
    assert "2 tests (4 points) use hidden inputs" in doc["output"]
    assert "4 /" not in doc["output"] and "Score" not in doc["output"]
    assert "axis" not in doc["output"]


def test_the_score_still_counts_every_test():
    assert late(result())["score"] == 4.0


def test_a_flag_raised_while_a_hidden_test_ran_is_shown_with_that_test():
    # More than 1 MB of output, tampering, a timeout: the student's code can make any
    # of them depend on a hidden input, so they are that test's, shown when it is.
    doc = late(result(flags=["timeout", "tampering", "output_truncated"]))
    b = doc["tests"][1]
    assert b["visibility"] == "after_due_date"
    assert "time limit" in b["output"] and "1 MB" in b["output"]
    for words in ("time limit", "1 MB", "test cell was changed"):
        assert words not in doc["output"]
    assert problems(doc) == []


def test_flags_raised_before_any_check_are_as_late_as_the_latest_test():
    doc = late(result(flags=["crash"], raised={"crash": STARTUP}))
    extra = doc["tests"][-1]
    assert extra["name"] == "Problems while running your code"
    assert extra["visibility"] == "after_due_date" and extra["max_score"] == 0
    assert "crashed" in extra["output"] and "crashed" not in doc["output"]


def test_what_was_settled_before_any_code_ran_is_shown_at_once():
    r = result(flags=["tampering"], raised={"tampering": READING})
    r.tests[1] = TestResult("test_b", 0.0, 2.0, False, "no points: the test cell was edited",
                            settled=True)
    r.unavailable = {"X_train": "defined in cell 12 by a call the grader does not run"}
    doc = late(r)
    assert "test cell was changed" in doc["output"]
    assert "b: no points: the test cell was edited" in doc["output"]
    assert "`X_train` is not run by the grader: defined in cell 12" in doc["output"]


def test_an_internal_error_of_a_hidden_test_stays_with_that_test():
    r = result()
    r.tests[1] = TestResult("test_b", 0.0, 2.0, False, "not graded: internal grader error "
                            "(ValueError: x)", internal=True)
    doc = late(r)
    assert "internal grader error" in doc["tests"][1]["output"]
    assert doc["tests"][1]["visibility"] == "after_due_date"
    assert "internal" not in doc["output"]


def _with_notebook_checks(r, passed=(True, False, True)):
    r.notebook_checks = [NotebookCheck(t.grade_id, ok, "" if ok else "AssertionError: got [nan]")
                         for t, ok in zip(r.tests, passed)]
    return r


def test_each_test_cell_is_two_entries_when_the_notebook_checks_ran():
    doc = late(_with_notebook_checks(result()))
    assert [t["name"] for t in doc["tests"]] == [
        "a: checks in your notebook", "a", "b: checks in your notebook", "b: hidden tests",
        "c: speed: checks in your notebook", "c: speed: hidden tests"]
    notebook = [t for t in doc["tests"] if t["tags"][1] == "notebook"]
    assert [t["visibility"] for t in notebook] == ["visible"] * 3
    assert [t["max_score"] for t in notebook] == [0.0] * 3      # feedback only, by default
    assert "AssertionError: got [nan]" in notebook[1]["output"]
    assert "Checks in your notebook: 2 of 3 test cells pass." in doc["output"]
    assert doc["score"] == 4.0 and problems(doc) == []


def test_a_share_of_the_points_for_the_notebook_checks():
    doc = results_json(_with_notebook_checks(result()), SPEC, hidden_cells=HIDDEN,
                       policy=Policy(notebook_share=0.25))
    notebook = [t for t in doc["tests"] if t["tags"][1] == "notebook"]
    hidden = [t for t in doc["tests"] if t["tags"][1] == "hidden"]
    assert [t["max_score"] for t in notebook] == [0.5] * 3
    assert [t["max_score"] for t in hidden] == [1.5] * 3
    # Notebook checks: a and c pass (1.0); hidden: a and c pass (3.0).
    assert doc["score"] == 4.0 and sum(t["max_score"] for t in doc["tests"]) == 6.0


def test_what_is_shown_at_once_is_the_same_whatever_the_hidden_tests_did():
    """Byte for byte: the summary and every visible entry, for hidden verdicts and
    flags that differ in every way the student's code could make them differ."""
    def shown_now(r):
        doc = late(_with_notebook_checks(r))
        return json.dumps([doc["output"]] + [t for t in doc["tests"]
                                             if t["visibility"] == "visible"])
    base = result()
    variants = [result(flags=f, raised={x: w for x in f})
                for f in (["timeout"], ["tampering", "output_truncated"], ["crash", "memory"])
                for w in ("test_b", "test_c_speed", STARTUP)]
    flipped = result(message="another message")
    flipped.tests[2] = TestResult("test_c_speed", 0.0, 2.0, False, "only 1.2x", "too_slow", "h")
    internal = result()
    internal.tests[1] = TestResult("test_b", 0.0, 2.0, False, "internal", internal=True)
    assert {shown_now(r) for r in [base, flipped, internal, *variants]} == {shown_now(base)}


def test_a_submission_that_could_not_be_read_says_so_at_the_top():
    r = result(flags=["invalid_notebook"], problem="the notebook could not be read (NotJSONError)")
    doc = late(r)
    assert doc["output"].startswith("Not graded: the notebook could not be read")
    assert "could not be read" in doc["output"]


def test_student_text_is_bounded_and_plain():
    doc = results_json(result(message="x" * 100_000), SPEC)
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
    from autograder.report.gradescope import write_gradescope
    r = result()
    r.student_id = sid
    out = tmp_path / "out"
    write_gradescope(r, SPEC, out)
    written = [p for p in tmp_path.rglob("results.json")]
    assert len(written) == 1 and (out / "gradescope") in written[0].parents

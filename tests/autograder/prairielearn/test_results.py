"""PrairieLearn's results.json from a StudentResult, and the contract check itself."""
import json

import pytest

from autograder.prairielearn.results import (HIDDEN_TOTAL, MAX_BYTES, RUN_PROBLEMS, clean,
                                             grader_failure, not_gradable, problems,
                                             results_json, shown_at_once)
from autograder.results import StudentResult, TestResult

SECRET_HINT = "the hidden loss multiplies reg by 2"


def result(flags=(), problem=""):
    return StudentResult("s", "sha", "g", flags=list(flags), problem=problem, tests=[
        TestResult("test_softmax", 2.0, 2.0, True, "passed"),
        TestResult("test_softmax_loss_naive_loss", 0.0, 4.0, False,
                   "the loss is wrong on hidden inputs", "naive_reg_2x", SECRET_HINT),
        TestResult("test_cross_entropy_error", 1.0, 3.0, False, "partly", None, None),
    ])


def test_every_test_shown_gives_each_entry_with_its_hint_and_a_matching_score():
    r = result()
    doc = results_json(r, None, shown={t.grade_id for t in r.tests})
    assert problems(doc) == []
    assert doc["gradable"] is True and doc["score"] == pytest.approx(3 / 9)
    assert [t["description"] for t in doc["tests"]] == [t.grade_id for t in r.tests]
    naive = doc["tests"][1]
    assert (naive["points"], naive["max_points"]) == (0.0, 4.0)
    assert naive["output"] == f"Hint: {SECRET_HINT}"


def test_a_test_not_shown_is_only_part_of_one_total():
    r = result()
    doc = results_json(r, None, shown={"test_softmax"})
    assert problems(doc) == []
    text = json.dumps(doc)
    assert SECRET_HINT not in text and "test_softmax_loss_naive_loss" not in text
    assert "hidden inputs" not in doc["tests"][0]["message"]
    total = next(t for t in doc["tests"] if t["name"] == HIDDEN_TOTAL)
    assert (total["points"], total["max_points"]) == (1.0, 7.0)
    assert [t["description"] for t in doc["tests"] if t["name"] != HIDDEN_TOTAL] == \
        ["test_softmax"]
    assert doc["score"] == pytest.approx(3 / 9)


def test_run_problems_get_a_neutral_entry_of_no_points():
    doc = results_json(result(flags=["timeout", "tampering"]), None, shown=set())
    assert problems(doc) == []
    run = next(t for t in doc["tests"] if t["name"] == RUN_PROBLEMS)
    assert (run["points"], run["max_points"]) == (0, 0) and "time limit" in run["message"]
    assert "test cell was changed" in doc["message"]


@pytest.mark.parametrize("flag", ["invalid_notebook", "missing_notebook", "symlink"])
def test_an_unreadable_notebook_is_not_gradable_and_says_why(flag):
    doc = results_json(result(flags=[flag], problem="the notebook could not be read (x)"),
                       None, shown=set())
    assert problems(doc) == []
    assert doc["gradable"] is False and "score" not in doc
    assert "could not be read" in doc["format_errors"][0]
    assert "did not use up an attempt" in doc["format_errors"][0]


def test_an_internal_error_is_not_the_students_zero():
    doc = results_json(result(flags=["crash"], problem="internal grader error: KeyError: x"),
                       None, shown=set())
    assert problems(doc) == [] and doc["gradable"] is False
    assert "autograder failed" in doc["message"] and "course staff" in doc["message"]
    assert problems(grader_failure("x")) == [] and problems(not_gradable("y")) == []


def test_student_text_loses_control_characters_and_is_bounded():
    r = StudentResult("s", "sha", "g", tests=[TestResult(
        "test_softmax", 0.0, 1.0, False, "\x1b[8mhidden\x1b[0m <b>\x00\ud800" + "x" * 9000)])
    doc = results_json(r, None, shown={"test_softmax"})
    assert problems(doc) == []
    msg = doc["tests"][0]["message"]
    assert "\x1b" not in msg and "\x00" not in msg and len(msg) <= 4000
    assert clean("a\nb\tc", 10) == "a\nb\tc"


def test_shown_at_once_is_what_gradescope_toml_calls_visible():
    vis = {"test_a": "visible", "test_b": "after_due_date", "test_c": "hidden",
           "test_d": "after_published"}
    assert shown_at_once(vis) == {"test_a"}


@pytest.mark.parametrize("doc, why", [
    ({"gradable": True, "score": 1.5, "tests": []}, "score"),
    ({"gradable": True, "score": float("nan")}, "JSON"),
    ({"gradable": True, "score": True}, "score"),
    ({"score": 0.5}, "gradable"),
    ({"gradable": False, "score": 0}, "format_errors"),
    ({"gradable": True, "score": 0.5, "grade": 1}, "unknown field"),
    ({"gradable": True, "score": 1.0, "tests": [{"name": "a", "points": 1}]}, "max_points"),
    ({"gradable": True, "score": 1.0, "tests": [{"name": "a", "points": 2, "max_points": 1}]},
     "outside"),
    ({"gradable": True, "score": 1.0, "tests": [{"name": "a", "points": 1, "max_points": 2}]},
     "does not match"),
    ({"gradable": True, "score": 1.0, "message": "\x1b[31m"}, "control"),
    ({"gradable": True, "score": 1.0, "output": "x" * (MAX_BYTES + 1)}, "bytes"),
    ([], "object"),
])
def test_the_contract_check_catches_each_breach(doc, why):
    found = problems(doc)
    assert found and any(why in p for p in found), found

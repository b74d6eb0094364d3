"""PrairieLearn's results.json from a StudentResult and its visibility Plan, and the
contract check itself."""
import json

import pytest

from autograder.prairielearn.results import (HIDDEN_TOTAL, MAX_BYTES, clean, grader_failure,
                                             not_gradable, problems, results_json)
from autograder.model import Visibility
from autograder.report.visibility import Policy, plan
from autograder.model import STARTUP, NotebookCheck, StudentResult, TestResult

SECRET_HINT = "the hidden loss multiplies reg by 2"
CELLS = ("test_softmax", "test_softmax_loss_naive_loss", "test_cross_entropy_error")
ALL_VISIBLE = Policy(hidden_tests=Visibility.VISIBLE)
DEFAULT = Policy()      # gradescope.toml's defaults: hidden tests after the due date


def result(flags=(), problem="", raised=None, checks=False):
    r = StudentResult("s", "sha", "g", flags=list(flags), problem=problem,
                      raised=dict(raised or {}), tests=[
        TestResult("test_softmax", 2.0, 2.0, True, "passed"),
        TestResult("test_softmax_loss_naive_loss", 0.0, 4.0, False,
                   "the loss is wrong on hidden inputs", "naive_reg_2x", SECRET_HINT),
        TestResult("test_cross_entropy_error", 0.0, 3.0, False, "wrong", None, None),
    ])
    if checks:
        r.notebook_checks = [NotebookCheck("test_softmax", True, "passed"),
                             NotebookCheck("test_softmax_loss_naive_loss", False,
                                           "the notebook's check: loss != expected"),
                             NotebookCheck("test_cross_entropy_error", True, "passed")]
    return r


def doc_of(r, policy):
    return results_json(r, plan(r, policy))


def test_every_test_shown_gives_each_entry_with_its_hint_and_a_matching_score():
    doc = doc_of(result(), ALL_VISIBLE)
    assert problems(doc) == []
    assert doc["gradable"] is True and doc["score"] == pytest.approx(2 / 9)
    assert [t["description"].split()[0] for t in doc["tests"]] == list(CELLS)
    naive = doc["tests"][1]
    assert (naive["points"], naive["max_points"]) == (0.0, 4.0)
    assert f"Hint: {SECRET_HINT}" in naive["message"]


def test_with_the_default_policy_hidden_tests_are_only_a_total():
    doc = doc_of(result(checks=True), DEFAULT)
    assert problems(doc) == []
    text = json.dumps(doc)
    assert SECRET_HINT not in text and "wrong on hidden inputs" not in text
    total = [t for t in doc["tests"] if t["name"] == HIDDEN_TOTAL]
    assert len(total) == 1 and (total[0]["points"], total[0]["max_points"]) == (2.0, 9.0)
    # The notebook's own checks are shown at once, with their messages, for no points.
    checks = [t for t in doc["tests"] if t["name"] != HIDDEN_TOTAL]
    assert [t["description"] for t in checks] == [f"{c} (notebook)" for c in CELLS]
    assert {t["max_points"] for t in checks} == {0.0}
    assert "loss != expected" in checks[1]["message"]
    assert "Checks in your notebook: 2 of 3" in doc["message"]
    assert doc["score"] == pytest.approx(2 / 9)


def test_a_test_marked_visible_is_shown_and_the_others_stay_in_the_total():
    policy = Policy(tests={"test_softmax": Visibility.VISIBLE})
    doc = doc_of(result(), policy)
    assert problems(doc) == []
    assert [t["description"] for t in doc["tests"]] == [
        "test_softmax (hidden)", "2 test cells' tests on inputs you do not see; only their "
        "total is shown"]
    assert SECRET_HINT not in json.dumps(doc)


def test_flags_raised_while_a_hidden_check_ran_are_not_shown():
    r = result(flags=["timeout"], raised={"timeout": "test_softmax_loss_naive_loss"})
    doc = doc_of(r, DEFAULT)
    assert problems(doc) == [] and "time limit" not in json.dumps(doc)
    doc = doc_of(r, ALL_VISIBLE)
    assert "time limit" in doc["tests"][1]["message"]


def test_problems_at_start_up_follow_the_latest_test():
    r = result(flags=["crash"], raised={"crash": STARTUP})
    assert "crashed" not in json.dumps(doc_of(r, DEFAULT))
    shown = doc_of(r, ALL_VISIBLE)
    assert problems(shown) == []
    assert any(t["max_points"] == 0 and "crashed" in t["message"] for t in shown["tests"])


@pytest.mark.parametrize("flag", ["invalid_notebook", "missing_notebook", "symlink"])
def test_an_unreadable_notebook_is_not_gradable_and_says_why(flag):
    doc = doc_of(result(flags=[flag], problem="the notebook could not be read (x)"), DEFAULT)
    assert problems(doc) == []
    assert doc["gradable"] is False and "score" not in doc
    assert "could not be read" in doc["format_errors"][0]
    assert "did not use up an attempt" in doc["format_errors"][0]


def test_an_internal_error_is_not_the_students_zero():
    failed = result(flags=["crash"], problem="internal grader error: KeyError: x")
    failed.internal = True
    doc = doc_of(failed, DEFAULT)
    assert problems(doc) == [] and doc["gradable"] is False
    assert "autograder failed" in doc["message"] and "course staff" in doc["message"]
    r = result()
    r.tests[1].internal = True
    doc = doc_of(r, DEFAULT)
    assert doc["gradable"] is False and "test_softmax_loss_naive_loss" not in json.dumps(doc)
    assert problems(grader_failure("x")) == [] and problems(not_gradable("y")) == []


def test_student_text_loses_control_characters_and_is_bounded():
    r = StudentResult("s", "sha", "g", tests=[TestResult(
        "test_softmax", 0.0, 1.0, False, "\x1b[8mhidden\x1b[0m <b>\x00\ud800" + "x" * 9000)])
    doc = doc_of(r, ALL_VISIBLE)
    assert problems(doc) == []
    msg = doc["tests"][0]["message"]
    assert "\x1b" not in msg and "\x00" not in msg and len(msg) <= 4000
    assert clean("a\nb\tc", 10) == "a\nb\tc"


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

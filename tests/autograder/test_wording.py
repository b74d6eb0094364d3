"""wording.py words every flag, title and verdict line, from typed facts only."""
from autograder.model import Flag, Spec, TestCell, TestResult, Visibility
from autograder import wording


def test_every_flag_has_its_sentence_and_every_visibility_its_when():
    assert set(wording.FLAG_TEXT) == set(Flag)
    assert all(s.strip() for s in wording.FLAG_TEXT.values())
    assert set(wording.WHEN) == set(Visibility)
    assert set(wording.WHILE_RUNNING) <= set(Flag)


def test_a_flag_raised_while_code_ran_may_read_otherwise():
    assert wording.flag_sentences([Flag.TAMPERING], running=False) == \
        [wording.FLAG_TEXT[Flag.TAMPERING]]
    assert wording.flag_sentences([Flag.TAMPERING]) == [wording.WHILE_RUNNING[Flag.TAMPERING]]
    assert wording.flag_sentences(["a_flag_of_a_later_version"]) == ["a_flag_of_a_later_version"]


def test_titles_come_from_the_declared_target_not_from_a_naming_convention():
    cell = lambda gid, target, title="": TestCell(gid, 1.0, (), target, title)  # noqa: E731
    assert wording.title(cell("test_f", "f")) == "f"
    assert wording.title(cell("test_f_grad", "f")) == "f: grad"
    assert wording.title(cell("test_f_fast_grad", "f_fast")) == "f_fast: grad"
    assert wording.title(cell("test_f_fast_grad", "f")) == "f: fast_grad"
    assert wording.title(cell("speed_of_f", "f")) == "speed_of_f"
    assert wording.title(cell("test_f", "f", "Part 1: f")) == "Part 1: f"
    spec = Spec("hw", ("f",), (cell("test_f_x", "f"),))
    assert wording.titles(spec) == {"test_f_x": "f: x"}
    assert wording.title_of("test_f_x", spec) == "f: x"
    assert wording.title_of("test_g_x") == "g_x"      # no spec: the grade_id alone


def test_one_verdict_line_for_every_nbgrader_view():
    ok = TestResult("test_f", 2.0, 2.0, True, "17x faster")
    bad = TestResult("test_f", 0.0, 2.0, False, "f(0) is wrong", "m", "return 0")
    assert wording.verdict_line(ok) == "test_f: 2 / 2 passed"
    assert wording.verdict_line(bad) == "test_f: 0 / 2 failed: f(0) is wrong\n  Hint: return 0"
    assert wording.outcome_text(bad) == "f(0) is wrong\nHint: return 0"
    assert wording.outcome_text(TestResult("t", 0.0, 1.0, False)) == "failed"


def test_a_missing_names_cause_is_worded_here():
    from autograder.model import Raised
    from autograder.submissions.notebook import explain
    why = {"EPS": "it is defined in a cell the grader does not run"}
    got = explain("f(x) raised NameError: name 'EPS' is not defined",
                  Raised("NameError", (NameError, Exception, BaseException), "EPS"), why)
    assert got.lacking == "EPS"
    assert got.message == wording.lacking_name("f(x) raised NameError: name 'EPS' is not defined",
                                               why["EPS"])

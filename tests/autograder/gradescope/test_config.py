"""gradescope.toml: defaults, overrides, and one clear line for each mistake."""
import pytest

from autograder.gradescope import config
from autograder.gradescope.config import ConfigError, GradescopeConfig, load, parse

TESTS = ["test_a", "test_b"]


def test_defaults_show_visible_checks_now_and_hidden_ones_after_the_due_date():
    c = GradescopeConfig()
    assert c.visibility("test_a", has_hidden_tests=False) == "visible"
    assert c.visibility("test_a", has_hidden_tests=True) == "after_due_date"
    assert c.max_graded == 0


def test_a_missing_file_means_the_defaults(tmp_path):
    assert load(tmp_path / "gradescope.toml") == GradescopeConfig()


def test_the_repository_file_parses_and_keeps_the_defaults():
    from autograder.gradescope.build import REPO
    assert load(REPO / "gradescope.toml") == GradescopeConfig()


def test_by_default_the_notebook_checks_are_shown_at_once_for_no_points():
    policy = GradescopeConfig().policy()
    assert policy.notebook_checks.value == "visible" and policy.notebook_share == 0.0
    assert policy.hidden_tests.value == "after_due_date"


def test_the_notebook_checks_visibility_and_share(tmp_path):
    p = tmp_path / "gradescope.toml"
    p.write_text('[visibility]\nnotebook_checks = "after_due_date"\n'
                 '[points]\nnotebook_checks = 0.2\n')
    policy = load(p, TESTS).policy()
    assert policy.notebook_checks.value == "after_due_date" and policy.notebook_share == 0.2


def test_overrides_by_test_id(tmp_path):
    p = tmp_path / "gradescope.toml"
    p.write_text('[visibility]\nhidden_checks = "after_published"\n'
                 '[visibility.tests]\ntest_b = "visible"\n[submissions]\nmax_graded = 5\n')
    c = load(p, TESTS)
    assert c.visibility("test_a", True) == "after_published"
    assert c.visibility("test_b", True) == "visible"
    assert c.max_graded == 5


@pytest.mark.parametrize("text, words", [
    ('[visibility]\nhidden_checks = "later"\n', "visibility.hidden_checks = 'later'"),
    ('[visibility.tests]\ntest_z = "visible"\n', "test_z"),
    ('[visibility]\nhiden_checks = "hidden"\n', "unknown key 'hiden_checks'"),
    ('[submissions]\nmax_graded = -1\n', "max_graded"),
    ('[submissions]\nmax_graded = true\n', "max_graded"),
    ('[grading]\nx = 1\n', "unknown section"),
    ('[points]\nnotebook_checks = 1.5\n', "points.notebook_checks = 1.5"),
    ('[points]\nnotebook_checks = "half"\n', "points.notebook_checks"),
    ('[points]\nhidden = 1\n', "unknown key 'points.hidden'"),
    ('[visibility]\nnotebook_checks = "soon"\n', "visibility.notebook_checks = 'soon'"),
    ('[visibility\n', "gradescope.toml"),
])
def test_mistakes_are_one_line(tmp_path, text, words):
    p = tmp_path / "gradescope.toml"
    p.write_text(text)
    with pytest.raises(ConfigError) as e:
        load(p, TESTS)
    assert words in str(e.value) and "\n" not in str(e.value)


def test_hidden_test_cells_are_found_in_the_source_notebook(tmp_path):
    import json
    cell = lambda gid, src: {"cell_type": "code", "source": src, "metadata": {  # noqa: E731
        "nbgrader": {"grade": True, "grade_id": gid, "points": 1, "solution": False}}}
    nb = {"cells": [cell("test_a", "assert 1"),
                    cell("test_b", ["assert 1\n", "### BEGIN HIDDEN TESTS\n", "check()\n"])]}
    (tmp_path / "s.ipynb").write_text(json.dumps(nb))
    assert config.hidden_test_cells(tmp_path / "s.ipynb") == {"test_b"}


def test_every_softmax_test_cell_has_hidden_tests():
    from autograder.assignments.softmax import ASSIGNMENT
    from autograder.assignment import load_spec
    spec = load_spec(ASSIGNMENT)
    assert config.hidden_test_cells(ASSIGNMENT.source) == {t.grade_id for t in spec.tests}

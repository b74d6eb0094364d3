"""The entrypoint's Python half: the question file, the start-up line, and the
result that is always written (grading itself: tests/e2e/test_prairielearn*.py)."""
import json
import stat

import pytest

from autograder.prairielearn import run as plrun
from autograder.prairielearn.results import problems
from autograder.sandbox import hosted


def job(tmp_path, question=None):
    root = tmp_path / "grade"
    (root / "tests").mkdir(parents=True)
    (root / "student").mkdir()
    if question is not None:
        (root / "tests" / plrun.QUESTION_FILE).write_text(json.dumps(question))
    return root


@pytest.mark.parametrize("question", [None, [], {"assignment": ""}, {"assignment": "softmax",
                                                                       "extra": 1}])
def test_a_bad_question_file_is_the_courses_error_not_the_students(tmp_path, question, capsys):
    root = job(tmp_path, question)
    doc = plrun.run(root, sandbox="container")
    assert problems(doc) == [] and doc["gradable"] is False
    assert "autograder failed (QuestionError)" in doc["message"]
    assert json.loads((root / "results" / "results.json").read_text()) == doc
    assert "question.json" in capsys.readouterr().out


def test_a_grader_crash_still_writes_a_valid_result(tmp_path, monkeypatch, capsys):
    def explode(*a, **k):
        raise RuntimeError("boom")
    monkeypatch.setattr(plrun, "grade", explode)
    monkeypatch.setattr(hosted, "bubblewrap_fails", lambda: None)
    doc = plrun.run(job(tmp_path, {"assignment": "softmax"}))
    assert problems(doc) == [] and doc["gradable"] is False
    assert "RuntimeError" in doc["message"] and "boom" not in doc["message"]
    assert "boom" in capsys.readouterr().out          # for the staff, in the job's log


def test_an_invalid_document_is_replaced_by_a_failure(tmp_path, monkeypatch):
    monkeypatch.setattr(plrun, "grade", lambda *a, **k: {"gradable": True, "score": 7})
    monkeypatch.setattr(hosted, "bubblewrap_fails", lambda: None)
    doc = plrun.run(job(tmp_path, {"assignment": "softmax"}))
    assert problems(doc) == [] and doc["gradable"] is False
    assert "invalid result" in doc["message"]


def test_the_start_up_line_says_why_container_mode(monkeypatch):
    monkeypatch.setattr(hosted, "bubblewrap_fails", lambda: "clone: Operation not permitted")
    mode, line = plrun.sandbox_mode("auto")
    assert mode == "container"
    assert "Operation not permitted" in line and "Docker's default seccomp profile" in line
    monkeypatch.setattr(hosted, "bubblewrap_fails", lambda: None)
    assert plrun.sandbox_mode("auto") == ("bubblewrap", "sandbox: bubblewrap")


def test_the_job_folder_is_closed_to_other_users(tmp_path, monkeypatch):
    root = job(tmp_path, {"assignment": "softmax"})
    root.chmod(0o755)
    monkeypatch.setattr(plrun, "grade", lambda *a, **k: {"gradable": True, "score": 1.0})
    monkeypatch.setattr(hosted, "bubblewrap_fails", lambda: None)
    plrun.run(root)
    assert stat.S_IMODE(root.stat().st_mode) == 0o700

"""run_autograder's Python half, without grading: staging, the cap, and the always-written result."""
import json
import os

import pytest

from autograder.gradescope import run as gsrun
from autograder.gradescope.schema import problems
from autograder.sandbox import hosted


def test_stage_copies_regular_notebooks_and_never_follows_a_link(tmp_path):
    sub = tmp_path / "submission"
    sub.mkdir()
    (sub / "softmax.ipynb").write_text("{}")
    (sub / "notes.txt").write_text("x")
    secret = tmp_path / "solutions.ipynb"
    secret.write_text("SOLUTION")
    (sub / "other.ipynb").symlink_to(secret)
    os.mkfifo(sub / "fifo.ipynb")                  # opening it must not hang
    (sub / "dir.ipynb").mkdir()
    (sub / "softmax").mkdir()
    (sub / "softmax" / "softmax.ipynb").write_text("{}")
    folder = gsrun.stage(sub, tmp_path / "staged", "softmax")
    got = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert got == ["student/softmax.ipynb", "student/softmax/softmax.ipynb"]
    assert not any(p.is_symlink() for p in folder.rglob("*"))


def test_stage_cuts_a_huge_file_so_the_reader_still_refuses_it(tmp_path, monkeypatch):
    monkeypatch.setattr(gsrun, "_max_bytes", lambda: 1000)
    sub = tmp_path / "submission"
    sub.mkdir()
    (sub / "softmax.ipynb").write_bytes(b"x" * 5000)
    folder = gsrun.stage(sub, tmp_path / "staged", "softmax")
    assert (folder / "student" / "softmax.ipynb").stat().st_size == 1001


def test_stage_of_a_missing_submission_folder_is_an_empty_student(tmp_path):
    folder = gsrun.stage(tmp_path / "nothing", tmp_path / "staged", "softmax")
    assert list((folder / "student").iterdir()) == []


def prev(score, time, graded=True):
    results = {"score": score, "tests": [{"name": "t", "score": score, "max_score": 2}],
               "output": f"Score: {score}"}
    if not graded:
        results["extra_data"] = {"graded": False}
    return {"submission_time": time, "score": score, "results": results}


def test_no_cap_or_under_the_cap_grades():
    meta = {"previous_submissions": [prev(1, "2026-11-20T10:00")]}
    assert gsrun.over_cap(meta, 0) is None
    assert gsrun.over_cap(meta, 2) is None


def test_over_the_cap_keeps_the_last_graded_result():
    meta = {"previous_submissions": [prev(1, "2026-11-20T10:00"), prev(2, "2026-11-21T10:00"),
                                     prev(2, "2026-11-22T10:00", graded=False)]}
    doc = gsrun.over_cap(meta, 2)
    assert doc["score"] == 2 and doc["tests"][0]["score"] == 2
    assert doc["output"].startswith("Not graded: you have used the 2 graded submissions")
    assert "2026-11-21T10:00" in doc["output"]
    assert doc["extra_data"] == {"graded": False}
    assert problems(doc) == []


def test_ungraded_submissions_do_not_count():
    meta = {"previous_submissions": [prev(1, "a"), prev(1, "b", graded=False)]}
    assert gsrun.over_cap(meta, 2) is None


def test_unreadable_metadata_means_no_previous_submissions(tmp_path):
    (tmp_path / "m.json").write_text("{not json")
    assert gsrun.read_json(tmp_path / "m.json") == {}
    assert gsrun.over_cap(gsrun.read_json(tmp_path / "m.json"), 3) is None


@pytest.mark.parametrize("boom", [RuntimeError("grader bug"), SystemExit(3), MemoryError()])
def test_a_grader_failure_still_writes_a_valid_result(tmp_path, monkeypatch, capsys, boom):
    def explode(*a, **k):
        raise boom
    monkeypatch.setattr(gsrun, "grade", explode)
    monkeypatch.setattr(gsrun, "sandbox_mode", lambda s: "bubblewrap")
    doc = gsrun.run(tmp_path)
    written = json.loads((tmp_path / "results" / "results.json").read_text())
    assert written == doc and problems(doc) == []
    assert doc["score"] == 0 and doc["output"].startswith("Not graded: the autograder failed")
    assert type(boom).__name__ in capsys.readouterr().out     # details for the staff


def test_an_invalid_document_is_replaced_by_a_failure(tmp_path, monkeypatch):
    monkeypatch.setattr(gsrun, "grade", lambda *a, **k: {"score": float("nan"), "tests": []})
    monkeypatch.setattr(gsrun, "sandbox_mode", lambda s: "bubblewrap")
    doc = gsrun.run(tmp_path)
    assert doc["score"] == 0 and "invalid result" in doc["output"]
    assert json.loads((tmp_path / "results" / "results.json").read_text())["score"] == 0


def test_auto_mode_falls_back_to_container_when_no_jailed_worker_answers(monkeypatch, capsys):
    monkeypatch.setattr(hosted, "bubblewrap_fails",
                        lambda: "bwrap: Can't mount proc on /newroot/proc: Operation not permitted")
    assert gsrun.sandbox_mode("auto") == "container"
    assert "Can't mount proc" in capsys.readouterr().out
    monkeypatch.setattr(hosted, "bubblewrap_fails", lambda: None)
    assert gsrun.sandbox_mode("auto") == "bubblewrap"
    assert gsrun.sandbox_mode("container") == "container"


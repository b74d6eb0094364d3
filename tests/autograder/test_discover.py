import pytest

from autograder.discover import UsageError, find_submissions


def test_both_layouts_and_missing_notebooks(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "softmax.ipynb").write_text("{}")
    (tmp_path / "bob" / "softmax").mkdir(parents=True)
    (tmp_path / "bob" / "softmax" / "softmax.ipynb").write_text("{}")
    (tmp_path / "carol").mkdir()
    (tmp_path / "dave").mkdir()
    (tmp_path / "dave" / "softmax (1).ipynb").write_text("{}")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    subs = {s.student_id: s.notebook for s in find_submissions(tmp_path, "softmax")}
    assert set(subs) == {"alice", "bob", "carol", "dave"}
    assert subs["bob"].parent.name == "softmax"
    assert subs["carol"] is None
    assert subs["dave"].name == "softmax (1).ipynb"


def test_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="no such folder"):
        find_submissions(tmp_path / "missing", "softmax")
    with pytest.raises(UsageError, match="no submissions"):
        find_submissions(tmp_path, "softmax")
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(UsageError, match="not a folder"):
        find_submissions(tmp_path / "f.txt", "softmax")

"""Results are saved atomically and reused only for the same notebook and grader."""
import json

from autograder.results import ResultStore, StudentResult, TestResult, atomic_write, file_sha256


def make(sid="s1", sha="abc", grader="g1"):
    return StudentResult(sid, sha, grader, tests=[TestResult("test_softmax", 2.0, 2.0, True)],
                         flags=["timeout"])


def test_round_trip_and_reuse(tmp_path):
    store = ResultStore(tmp_path)
    store.save(make())
    back = store.load("s1", "abc", "g1")
    assert back.score == 2.0 and back.flags == ["timeout"] and back.tests[0].passed


def test_changed_notebook_or_grader_is_regraded(tmp_path):
    store = ResultStore(tmp_path)
    store.save(make())
    assert store.load("s1", "other-sha", "g1") is None
    assert store.load("s1", "abc", "g2") is None


def test_corrupt_result_is_regraded_not_fatal(tmp_path):
    store = ResultStore(tmp_path)
    store.path("s1").parent.mkdir(parents=True)
    store.path("s1").write_text("{ half a file")
    assert store.load("s1", "abc", "g1") is None


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    atomic_write(tmp_path / "a.json", json.dumps({"x": 1}))
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_sha_of_missing_file_is_empty(tmp_path):
    assert file_sha256(tmp_path / "nope") == ""
    assert file_sha256(None) == ""

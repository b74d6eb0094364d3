"""Results are saved atomically and reused only for the same notebook and grader."""
import json
from pathlib import Path

from autograder.model import StudentResult, TestResult
from autograder.record.store import ResultStore, atomic_write, file_sha256


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


NAMES = ["alice", "a,b", "bad name", "José", "Jose\u0301", ".hidden", "-x", "x<script>",
         "=cmd|' calc'!A0", "n" * 300, "new\nline", "..", ".", "a/b", "_a~1", "raw\\xff"]


def test_safe_names_are_plain_unique_stable_and_stay_inside_out(tmp_path):
    from autograder.record.store import inside, safe_name
    names = [safe_name(n) for n in NAMES]
    assert names[0] == "alice"                               # plain ids keep their name
    assert len(set(names)) == len(NAMES)                     # collision-free
    assert names == [safe_name(n) for n in NAMES]            # stable
    for n in names:
        assert "/" not in n and "\n" not in n and n not in (".", "..") and len(n) < 100
        assert not n.startswith(("-", "."))
        assert inside(tmp_path, "feedback", n, "x.html").parent.parent == tmp_path.resolve() / "feedback"


def test_inside_refuses_escaping_paths(tmp_path):
    import pytest
    from autograder.record.store import inside
    for bad in ("..", "../x", "/etc/passwd"):
        with pytest.raises(ValueError):
            inside(tmp_path / "out", bad)


def test_odd_ids_round_trip_through_the_store(tmp_path):
    store = ResultStore(tmp_path)
    for sid in NAMES:
        store.save(make(sid))
    assert all(store.load(sid, "abc", "g1").student_id == sid for sid in NAMES)
    assert len(list((tmp_path / "results").iterdir())) == len(NAMES)


def test_internal_errors_are_never_reused(tmp_path):
    store = ResultStore(tmp_path)
    r = make()
    r.problem, r.internal = "internal grader error: RuntimeError: boom", True
    store.save(r)
    assert store.load("s1", "abc", "g1") is None
    r = make()
    r.tests[0].internal = True
    store.save(r)
    assert store.load("s1", "abc", "g1") is None
    # The words alone (a student's text quoted in a problem) decide nothing.
    r = make()
    r.problem = "the notebook's format is 'Internal error in the timer', not 4"
    store.save(r)
    assert store.load("s1", "abc", "g1") == r
    store.save(make())
    assert store.load("s1", "abc", "g1") is not None


def test_sha_never_follows_a_link(tmp_path):
    (tmp_path / "nb.ipynb").symlink_to("/etc/passwd")
    assert file_sha256(tmp_path / "nb.ipynb") == "refused:symlink"


def test_development_tools_are_outside_the_fingerprint():
    """Mutation testing, the benchmark's kernel and the attack samples are not the grader:
    editing them must not throw away stored grades."""
    from autograder.record.store import grader_files
    repo = Path(__file__).resolve().parents[3]
    files = [Path(f).resolve() for f in grader_files([])]
    assert repo / "autograder" / "sandbox" / "worker.py" in files
    assert repo / "autograder" / "assignments" / "softmax" / "checks.py" in files
    assert all(f.is_relative_to(repo / "autograder") for f in files)
    names = {f.name for f in files}
    assert not names & {"mutants.py", "realistic.py", "blocked.py", "hostile.py"}
    for tool in ("dev/mutants.py", "dev/realistic.py", "bench/blocked.py",
                 "tests/e2e/adversarial/hostile.py"):
        assert (repo / tool).is_file(), tool

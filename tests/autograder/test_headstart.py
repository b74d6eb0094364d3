"""headstart: the first jail and reader child, started before the grader's imports,
serve the first student of a run made with the same settings, and nothing is left
running whoever takes them."""
import subprocess
import sys

import pytest

from autograder import headstart, pipeline
from autograder.headstart import Asked
from autograder.sandbox import Limits, bwrap, modes

UNSAFE = Asked(sandbox="auto", unsafe=True, memory_mb=1024)


def _gone(proc):
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        return False
    return True


def test_it_imports_neither_numpy_nor_the_pipeline():
    """Its point: what it starts boots while NumPy and the pipeline are imported."""
    code = ("import sys, autograder.headstart; "
            "print(sorted(m for m in ('numpy', 'autograder.pipeline', 'autograder.check') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_each_piece_is_given_once_and_only_for_its_mode_and_limits():
    with headstart.start(UNSAFE) as early:
        assert early.mode is modes.UNSAFE and early.serves(UNSAFE)
        assert not early.serves(Asked(sandbox="auto", unsafe=True, memory_mb=512))
        assert early.take_jail(modes.UNSAFE, Limits(memory_mb=512)) is None
        assert early.take_jail(object(), Limits(memory_mb=1024)) is None
        jail = early.take_jail(modes.UNSAFE, Limits(memory_mb=1024))
        assert jail is not None and early.take_jail(modes.UNSAFE, Limits()) is None
        reader = early.take_reader()
        assert reader is not None and early.take_reader() is None
        try:
            assert jail.request({"op": "ping"}, 30)["ok"]       # a working worker
        finally:
            jail.close()
            reader.close()


def test_what_nobody_took_is_stopped_on_close():
    early = headstart.start(UNSAFE)
    jail, reader = early._jail.proc, early._reader.proc
    early.close()
    assert _gone(jail) and _gone(reader)
    early.close()                                   # again: nothing


def test_nothing_starts_early_for_the_container_mode_or_a_sandbox_that_cannot_run(
        monkeypatch):
    assert headstart.start(Asked(sandbox="container", unsafe=False, memory_mb=1024)) is None

    def no_bwrap():
        raise bwrap.SandboxUnavailable("bubblewrap cannot create namespaces (test)")
    monkeypatch.setattr(bwrap, "find", no_bwrap)
    assert headstart.start(Asked(sandbox="auto", unsafe=False, memory_mb=1024)) is None


def _one(tmp_path):
    from autograder.assignments.softmax.samples import build, write
    write(tmp_path / "subs", "ann", build())
    return tmp_path / "subs"


def test_the_first_student_gets_the_jail_and_reader_started_early(monkeypatch, tmp_path):
    subs = _one(tmp_path)
    early = headstart.start(UNSAFE)
    jail, reader = early._jail, early._reader
    given = []
    real_read = pipeline.read_submission
    real_grade = pipeline.grade_one

    def read(*a, pool, **k):
        given.append(("reader", pool.get()))
        return real_read(*a, pool=pool, **k)

    def grade_one(*a, started=None, **k):
        given.append(("jail", started))
        return real_grade(*a, started=started, **k)
    monkeypatch.setattr(pipeline, "read_submission", read)
    monkeypatch.setattr(pipeline, "grade_one", grade_one)
    opts = pipeline.Options(progress=False, unsafe=True, jobs=1, gradebook="no")
    _, (row,) = pipeline.grade(subs, tmp_path / "out", opts, headstart=early)
    assert given == [("reader", reader), ("jail", jail)]
    assert row.score == row.max_score == 20 and not row.flags
    assert _gone(jail.proc) and reader.proc is None             # both stopped by the end


@pytest.mark.parametrize("why", ["other settings", "stored result"])
def test_a_headstart_that_cannot_serve_is_stopped_and_the_run_is_as_without_one(
        why, tmp_path):
    subs = _one(tmp_path)
    opts = pipeline.Options(progress=False, unsafe=True, jobs=1, gradebook="no")
    if why == "stored result":
        pipeline.grade(subs, tmp_path / "out", opts)        # the rerun reuses its result
    early = headstart.start(UNSAFE if why == "stored result" else
                            Asked(sandbox="auto", unsafe=True, memory_mb=2048))
    jail = early._jail
    _, (row,) = pipeline.grade(subs, tmp_path / "out", opts, headstart=early)
    assert row.score == 20 and _gone(jail.proc)
    assert early.take_jail(early.mode, early.limits) is None

"""Read one submitted notebook: the code to run, and any tampering.

The file is hostile input: it is opened by `reader` (no link followed, a
regular file, at most reader.MAX_BYTES) and parsed by `nbparse` in a bounded
reader child, one per grading thread. Every failure is the student's row:
`problem` says what went wrong in one line and `flags` carries the flag.

The code to run is the solution cells, taken by grade_id (test cells are
never run from a submission), preceded by the definitions they depend on
from the notebook's other cells (see `definitions`). A test cell that was
edited, deleted, re-labelled or duplicated is tampering: that test earns
nothing.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.model import Flag, Raised, Spec
from autograder.wording import lacking_name
from autograder.perthread import PerThread

from . import reader
from .discover import Submission


@dataclass
class StudentCode:
    """One submission as the grader runs it: what `read_submission` gives the runner."""
    cells: list[tuple[str, str]] = field(default_factory=list)   # (cell name, source), in order
    tampered: dict[str, str] = field(default_factory=dict)       # test id -> what was done to it
    flags: set[Flag] = field(default_factory=set)
    problem: str = ""                               # why nothing could be read
    unavailable: dict[str, str] = field(default_factory=dict)    # name -> why the grader lacks it
    sha256: str = ""                                # of the bytes read ("" / a marker if none)
    outline: dict[str, Any] | None = None   # the same bytes as a viewer shows them, if asked


@dataclass(frozen=True)
class Shown:
    """What the course output shows of one submission (formgrader's copy): `outline`, the
    notebook as the grader read it in the same read as the code it graded (None: not
    readable), and `folder`, the folder it was submitted in (None: none), whose nbgrader
    side files (timestamp.txt, submission_secret.txt) are copied beside it."""
    outline: dict[str, Any] | None = None
    folder: Path | None = None

    @classmethod
    def of(cls, sub: Submission, code: StudentCode) -> Shown:
        """For a Submission and the StudentCode read from it with `outline=True`."""
        return cls(code.outline, sub.notebook.parent if sub.notebook is not None else None)


def readers() -> PerThread:
    """The reader children of a run, one per grading thread, made on first use; whoever
    made it closes it (`.close()`) when the run ends."""
    return PerThread(reader.ReaderProcess)


def adopt_reader(pool: PerThread, started: reader.ReaderProcess | None) -> None:
    """This thread's reader child in `pool` is `started` (a ReaderProcess started
    beforehand, e.g. by a Headstart), unless the thread has one already: `started` is
    then closed."""
    if started is not None and not pool.adopt(started):
        started.close()


def _as_submission(sub: Submission | str | Path | None) -> Submission:
    """A Submission for a Submission, a Path to a notebook, or None (missing)."""
    if sub is None or isinstance(sub, Submission):
        return sub or Submission("", None, None, Flag.MISSING_NOTEBOOK,
                                 "no notebook was found in the submission")
    path = Path(sub)
    return Submission(path.parent.name, path.parent, (path.name,))


def _request(spec: Spec, outline: bool = False) -> dict[str, Any]:
    return {"solution_ids": list(spec.solution_ids),
            "tests": [[t.grade_id, list(t.checksums)] for t in spec.tests], "outline": outline}


def _parse(data: bytes, request: dict[str, Any], pool: PerThread) -> dict[str, Any]:
    """The reader child's reply; a child that dies is replaced and tried once more."""
    for attempt in (1, 2):
        try:
            return pool.get().parse(data, request)
        except reader.ReaderDied as e:
            if not e.retry or attempt == 2:
                return {"ok": False, "problem": f"the notebook could not be read: {e.reason}"}
    raise AssertionError("unreachable")


def read_submission(sub: Submission | str | Path | None, spec: Spec, *,
                    outline: bool = False, pool: PerThread | None = None) -> StudentCode:
    """StudentCode for a Submission (or a notebook Path, or None when there is none).

    The notebook is read once: its bytes give the hash (`sha256`, the result store's
    key), and one round trip to the reader child gives the code and, with `outline`,
    the outline of those same bytes (for formgrader's copy; None when unreadable).
    `pool`: the run's reader children (`readers()`); None starts one for this read
    alone and ends it (a tool, a test). Raises reader.ReaderUnavailable only when the
    reader child cannot start: the grader's failure, not the student's.
    """
    sub = _as_submission(sub)
    code = StudentCode()
    try:
        data, code.sha256 = sub.read_bytes()
    except reader.Refused as r:
        code.flags.add(r.flag)
        code.problem = r.problem or "no notebook was found in the submission"
        code.sha256 = sub.sha256() if sub.flag else r.marker
        return code
    own = pool is None
    pool = readers() if pool is None else pool
    try:
        reply = _parse(data, _request(spec, outline), pool)
    finally:
        if own:
            pool.close()
    del data
    if not reply.get("ok"):
        code.flags.add(Flag.INVALID_NOTEBOOK)
        code.problem = str(reply.get("problem"))[:300]
        return code
    code.cells = [(str(n), str(s)) for n, s in reply["cells"]]
    code.tampered = {str(k): str(v) for k, v in reply["tampered"].items()}
    code.unavailable = {str(k): str(v) for k, v in reply.get("unavailable", {}).items()}
    code.outline = reply["outline"] if isinstance(reply.get("outline"), dict) else None
    if code.tampered:
        code.flags.add(Flag.TAMPERING)
    return code


@dataclass(frozen=True)
class Explained:
    message: str
    lacking: str | None = None     # the name the grader does not have, when that is the cause


def explain(message: str, raised: Raised | None,
            unavailable: Mapping[str, str]) -> Explained:
    """`message` plus why, when what it reports (`raised`) is a NameError for a name the
    grader does not have."""
    name = raised.name if raised is not None and raised.is_a(NameError) else None
    if name is not None and name in unavailable:
        return Explained(lacking_name(message, unavailable[name]), name)
    return Explained(message)

"""A grading run's first jail and first reader child, started before the grader's imports.

Python's start and the grader's imports (NumPy, the checks, the reports: about 0.2 s)
need neither the jail nor the reader, and the first student's jail (bwrap, a Python,
NumPy: about 0.12 s) and reader child (about 0.04 s) need none of those imports. So the
CLI starts them first, from this module (which imports neither NumPy nor the
pipeline), and they boot on the other core while the grader imports, rather than
after. Each is the very thing the run would start later: the jail a WorkerProcess of
the mode and Limits the run selects (sent nothing until the student's cells), the
reader a ReaderProcess with its defaults; every student call stays jailed as before.

A Headstart is a value the CLI makes and hands to the pipeline: the first student
that needs a jail or a reader takes it (`take_jail`, `take_reader`: each is given
once, from whichever grading thread asks first); whoever made it closes what nobody
took (`close`, idempotent). It is used only for the settings it was made for
(`serves`): a run with other settings starts its own, as without one.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

from autograder.model import SandboxMode
from autograder.sandbox import Limits, WorkerProcess, modes
from autograder.sandbox.bwrap import SandboxUnavailable
from autograder.sandbox.modes import Mode
from autograder.submissions.reader import ReaderProcess


@dataclass(frozen=True)
class Asked:
    """The settings a Headstart was made for: --sandbox, --unsafe-no-sandbox, --memory."""
    sandbox: str
    unsafe: bool
    memory_mb: int


class Headstart:
    """The selected sandbox `mode`, its first jail and a reader child, already started."""

    def __init__(self, asked: Asked, *, mode: Mode, jail: WorkerProcess | None,
                 reader: ReaderProcess | None) -> None:
        self.asked = asked
        self.mode = mode
        self.limits = Limits(memory_mb=asked.memory_mb)
        self._jail, self._reader = jail, reader
        self._lock = threading.Lock()

    def serves(self, asked: Asked) -> bool:
        """Whether this was made for the settings `asked` (else the run ignores it)."""
        return asked == self.asked

    def take_jail(self, mode: object, limits: Limits) -> WorkerProcess | None:
        """The started jail, once, if it is one of `mode` with `limits`; else None."""
        with self._lock:
            if mode is not self.mode or limits != self.limits:
                return None
            jail, self._jail = self._jail, None
        return jail

    def take_reader(self) -> ReaderProcess | None:
        """The started reader child, once; then None."""
        with self._lock:
            reader, self._reader = self._reader, None
        return reader

    def close(self) -> None:
        """Stop what nobody took."""
        jail, reader = self.take_jail(self.mode, self.limits), self.take_reader()
        if jail is not None:
            jail.close()
        if reader is not None:
            reader.close()

    def __enter__(self) -> Headstart:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start(asked: Asked) -> Headstart | None:
    """A Headstart for the settings `asked`, or None where nothing can start early: the
    container mode (it locks the grader's paths away first, which needs the run's
    paths), or a sandbox that cannot run here (the run then says why, as without one).
    A piece that fails to start is left out: the run starts it later, as without one."""
    if asked.unsafe:
        mode: Mode = modes.UNSAFE
    elif asked.sandbox in (SandboxMode.AUTO, SandboxMode.BUBBLEWRAP):
        try:
            mode = modes.select(asked.sandbox)
        except (SandboxUnavailable, ValueError):
            return None
    else:
        return None
    try:
        jail: WorkerProcess | None = WorkerProcess(Limits(memory_mb=asked.memory_mb),
                                                   sandbox=mode)
    except Exception:  # noqa: BLE001 - see the docstring
        jail = None
    reader = ReaderProcess()
    try:
        reader.start()
    except Exception:  # noqa: BLE001 - see the docstring
        reader.close()
        return Headstart(asked, mode=mode, jail=jail, reader=None)
    return Headstart(asked, mode=mode, jail=jail, reader=reader)

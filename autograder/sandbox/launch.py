"""What a sandbox mode gives for one worker: the argv to exec and the clean-up once it is killed.

Every mode's `launch(python, limits)` returns a `Launch` (modes.py, bubblewrap.py,
container.py); `session.WorkerProcess` starts it and closes it.
"""
import os
from dataclasses import dataclass, field


@dataclass
class Launch:
    """What to start for one worker, and what to undo once it is killed."""
    argv: list
    env: dict
    cwd: str | None = None
    pass_fds: tuple = ()
    cleanups: list = field(default_factory=list)
    cgroup: object = None     # the JailCgroups around the jail (may hold none)

    def started(self):
        """After Popen: the parent's copies of passed descriptors are closed."""
        for fd in self.pass_fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self.pass_fds = ()

    def close(self):
        """Run every clean-up once, in reverse order (idempotent)."""
        while self.cleanups:
            try:
                self.cleanups.pop()()
            except Exception:  # noqa: BLE001 - a clean-up must not hide the others
                pass

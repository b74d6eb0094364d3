"""Sandboxed execution: one student's code in its own bubblewrap jail.

`Sandbox` starts `worker.py` under bwrap with a read-only view of only the
Python installation and numpy, a private /tmp, no network, its own PID
namespace, resource limits, and kills the whole tree when it stops.
"""
from .jail import Limits, SandboxUnavailable, bwrap_available, sandbox_command  # noqa: F401
from .session import WorkerDied, WorkerProcess  # noqa: F401

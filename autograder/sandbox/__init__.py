"""Sandboxed execution: one student's code in its own bubblewrap jail.

`WorkerProcess` starts `worker.py` in the active sandbox mode (modes.py):
a bubblewrap jail (jail.py) or, where namespaces are refused, a separate
unprivileged uid (container.py); one process under a seccomp filter
(seccomp.py), resource limits, and the whole jail killed when it stops.
"""
from .jail import Limits, SandboxUnavailable, bwrap_available  # noqa: F401
from .modes import activate, describe, select  # noqa: F401
from .session import WorkerDied, WorkerProcess  # noqa: F401

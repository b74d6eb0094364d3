"""Sandboxed execution: one student's code in its own bubblewrap jail.

`WorkerProcess` starts `worker.py` in the sandbox mode it is given (modes.py;
`JailSettings` carries the mode and the caps of a run down to it):
a bubblewrap jail (jail.py) or, where namespaces are refused, a separate
unprivileged uid (container.py); one process under a seccomp filter
(seccomp.py), resource limits, and the whole jail killed when it stops.
"""
from .jail import Limits, SandboxUnavailable, bwrap_available  # noqa: F401
from .modes import describe, select  # noqa: F401
from .settings import JailSettings  # noqa: F401
from .session import WorkerDied, WorkerProcess  # noqa: F401

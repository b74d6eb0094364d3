"""How a worker is jailed: the sandbox modes and the one line saying which caps hold.

- `bubblewrap` (default where namespaces work): bwrap jail (jail.py) with the
  seccomp filter, rlimits and sized tmpfs; an extra cgroup as root.
- `container` (container.py): where namespaces are refused, as root: the
  container is the sandbox, student code runs as its own unprivileged uid.
- `unsafe` (`--unsafe-no-sandbox`, by name only): no jail at all.

A mode's `launch(python, limits)` gives a `Launch` (launch.py): what to exec and the
clean-up once the worker is killed; bubblewrap.py and container.py hold those two
modes. `select(name)` picks a mode, or raises SandboxUnavailable with one line saying
why none can run here.
"""
from ..model import SandboxMode
from .bubblewrap import BubblewrapMode
from .container import ContainerMode
from .jail import WORKER, Limits, limit_argv, memory_budget, worker_env
from .launch import Launch


class UnsafeMode:
    name = SandboxMode.UNSAFE

    def launch(self, python, limits):
        # The rlimits as before (a hung or greedy worker still stops), no jail.
        return Launch(limit_argv(limits, _NoCgroup()) + [python, "-I", "-B", str(WORKER)],
                      worker_env())

    def describe(self, limits=Limits()):
        as_mb, _ = memory_budget(limits)
        return ("sandbox: NONE (--unsafe-no-sandbox): student code runs with the grader's "
                f"own rights and network; per worker: {as_mb} MB address space, "
                f"{limits.cpu_seconds} s CPU, processes not capped")


class _NoCgroup:
    def procs_files(self):
        return []


UNSAFE = UnsafeMode()
# What `select` gives: each makes a worker's Launch and says which caps hold.
Mode = BubblewrapMode | ContainerMode | UnsafeMode


def select(name=SandboxMode.AUTO, **container_options):
    """The mode to grade with; SandboxUnavailable (one line) when it cannot run here."""
    if name == SandboxMode.UNSAFE:
        return UNSAFE
    if name == SandboxMode.CONTAINER:
        return ContainerMode(**container_options)
    if name not in (SandboxMode.AUTO, SandboxMode.BUBBLEWRAP):
        raise ValueError(f"unknown sandbox mode {name!r}")
    return BubblewrapMode()      # raises with the diagnosis when bwrap cannot run


def prefetch(mode, python):
    """Start building `mode`'s font list for `python` (fontlist.py) in the background,
    so it overlaps the run getting ready; a mode without one needs nothing."""
    fonts = getattr(mode, "fonts", None)
    if fonts is not None:
        fonts.prefetch(python)


def describe(mode, limits=Limits()):
    """The start-up line for `mode` (see each mode's describe)."""
    return mode.describe(limits)


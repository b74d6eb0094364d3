"""How a worker is jailed: the sandbox modes and the one line saying which caps hold.

- `bubblewrap` (default where namespaces work): bwrap jail (jail.py) with the
  seccomp filter, rlimits and sized tmpfs; an extra cgroup as root.
- `container` (container.py): where namespaces are refused, as root: the
  container is the sandbox, student code runs as its own unprivileged uid.
- `unsafe` (`--unsafe-no-sandbox`, by name only): no jail at all.

A mode's `launch(python, limits)` gives a `Launch`: what to exec and the clean-up
once the worker is killed. `select(name)` picks a mode, or raises
SandboxUnavailable with one line saying why none can run here.
"""
import itertools
import os
from dataclasses import dataclass, field

from . import bwrap as _bwrap
from . import seccomp
from .fontlist import FontLists
from .bwrap import SandboxUnavailable
from .jail import (WORKER, JailCgroups, Limits, bwrap_command, cgroup_kind, limit_argv,
                   memory_budget, worker_env)

MODES = ("auto", "bubblewrap", "container")
_ids = itertools.count()


@dataclass
class Launch:
    """What to start for one worker, and what to undo once it is killed."""
    argv: list
    env: dict
    cwd: str = None
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


def has_filter():
    return seccomp.known()


def _caps(limits, *, tmp_label, tmp_sized, network):
    as_mb, tmp_mb = memory_budget(limits)
    procs = ("1 process (seccomp)" if has_filter()
             else f"{limits.processes} processes (RLIMIT_NPROC, per user)")
    mem = (f"{limits.memory_mb} MB memory ({as_mb} MB address space + {tmp_label} {tmp_mb} MB)"
           if tmp_sized else f"{as_mb} MB address space, {tmp_label} unbounded (no --size)")
    return f"{procs}, {mem}, {limits.cpu_seconds} s CPU, {network}"


class BubblewrapMode:
    name = "bubblewrap"

    def __init__(self, bw=None):
        self.bw = bw or _bwrap.find()
        self.fonts = FontLists()

    def launch(self, python, limits):
        fonts = self.fonts.get(python)
        fonts_fd = fonts.fd() if fonts is not None else None
        cgroup = JailCgroups(f"{os.getpid()}-{next(_ids)}", limits)
        nproc = None if has_filter() or os.geteuid() == 0 else limits.processes
        argv = limit_argv(limits, cgroup, nproc) + bwrap_command(
            self.bw, python, limits,
            fonts=(fonts_fd, fonts.name) if fonts is not None else None)
        return Launch(argv, worker_env(), pass_fds=(fonts_fd,) if fonts is not None else (),
                      cleanups=[cgroup.kill_all], cgroup=cgroup)

    def describe(self, limits=Limits()):
        cg = cgroup_kind()
        extra = f"; cgroup {cg} around each jail" if cg else ""
        return (f"sandbox: {self.bw.describe()}; per jail: "
                + _caps(limits, tmp_label="/tmp" if self.bw.sized_tmpfs else "/tmp and /dev/shm",
                        tmp_sized=self.bw.sized_tmpfs,
                        network="no network") + extra)


class UnsafeMode:
    name = "unsafe"

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


def select(name="auto", **container_options):
    """The mode to grade with; SandboxUnavailable (one line) when it cannot run here."""
    if name == "unsafe":
        return UNSAFE
    if name == "container":
        from .container import ContainerMode
        return ContainerMode(**container_options)
    if name not in ("auto", "bubblewrap"):
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


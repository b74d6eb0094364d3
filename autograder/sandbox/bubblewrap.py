"""Bubblewrap mode (the default where namespaces work): each worker in its own bwrap jail.

The jail (jail.py's bwrap argv) with the seccomp filter, rlimits and a sized tmpfs;
an extra cgroup around each jail as root. `describe` says which caps hold.
"""
import itertools
import os

from ..model import SandboxMode
from . import bwrap as _bwrap
from . import seccomp
from .fontlist import FontLists
from .jail import JailCgroups, Limits, bwrap_command, cgroup_kind, limit_argv, memory_budget, worker_env
from .launch import Launch

_ids = itertools.count()


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
    name = SandboxMode.BUBBLEWRAP

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

"""The jail's seccomp filter: an allow-list, everything else fails with EPERM.

Guarantee: a process under `program()` may make only the system calls named in
`ALLOWED`, and the argument-checked ones only with the arguments their rules
allow; every other call, every number this module does not know, and any call
through another ABI (32-bit int 0x80 or x32 on x86_64) returns EPERM (never a
kill, so the worker reports it like any other error).

What the list leaves out, and so what holds in every sandbox mode:
- one process, one thread: no clone, clone3, fork, vfork, execve;
- no network and no IPC: no socket or socketpair of any family, so no bind
  (which would make an inode for a Unix socket path), connect, sendto; no
  System V shared memory, queues or semaphores; no POSIX message queues
  (mq_open), pipes, eventfds or signalfds;
- no new inode anywhere: open/openat only without O_CREAT and O_TMPFILE,
  and no creat, openat2, mkdir, mknod, link, symlink, rename, memfd_create;
- no changes to the file system's metadata (unlink, chmod, chown, truncate,
  xattrs, mounts, file locks) and no other process touched (kill, ptrace,
  process_vm_*), no namespaces, no keyring, bpf, perf, io_uring, userfaultfd;
- limits only read: prlimit64 with no new limit, no setrlimit.

The list was derived by running the honest corpus, every sample and the
reference notebook's helpers (NumPy, matplotlib, scikit-learn) in both sandbox
modes under strace: `dev/derive_seccomp.py` does it again and says what a
new Python or library needs that the list lacks.

The program is plain classic BPF assembled here (a binary search over the
allowed numbers, so a call costs a handful of instructions; Linux >= 5.11
also caches the unconditional ones). `BOOT` loads it in the worker's own
Python, after start-up and before the worker script runs, in both modes.
"""
import os
import struct
from dataclasses import dataclass

from .syscalls import (ARCHES, F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_GETFL, F_SETFD, F_SETFL,
                       FIOCLEX, FIONBIO, FIONREAD, O_CREAT, O_TMPFILE, TCGETS, TIOCGWINSZ,
                       X32_BIT)

# <linux/filter.h>, <linux/seccomp.h>
_LD_ABS_W = 0x20        # BPF_LD | BPF_W | BPF_ABS
_JEQ = 0x15             # BPF_JMP | BPF_JEQ | BPF_K
_JGE = 0x35             # BPF_JMP | BPF_JGE | BPF_K
_JSET = 0x45            # BPF_JMP | BPF_JSET | BPF_K
_RET = 0x06             # BPF_RET | BPF_K
RET_ALLOW = 0x7FFF0000
RET_ERRNO = 0x00050000
EPERM = 1
DENY = RET_ERRNO | EPERM
_NR, _ARCH = 0, 4       # offsets in struct seccomp_data
_ARGS = 16              # offsetof(struct seccomp_data, args); each 8 bytes, low word first
CREATE_FLAGS = O_CREAT | O_TMPFILE


# ------------------------------------------------------------------ argument rules
@dataclass(frozen=True)
class FlagsClear:
    """Allowed only when none of `mask`'s bits is set in argument `arg` (an int)."""
    arg: int
    mask: int

    def code(self, deny):
        return [(_LD_ABS_W, _ARGS + 8 * self.arg, None, None),   # the int's (low) word
                (_JSET, self.mask, deny, None)]


@dataclass(frozen=True)
class OneOf:
    """Allowed only when argument `arg` (an int) is one of `values`."""
    arg: int
    values: tuple

    def code(self, deny):
        ok = f"{deny}.ok{self.arg}"
        lines: list[tuple] = [(_LD_ABS_W, _ARGS + 8 * self.arg, None, None)]
        lines += [(_JEQ, v, ok, None) for v in self.values]
        return lines + [(_RET, DENY, None, None), ("label", ok)]


@dataclass(frozen=True)
class Null:
    """Allowed only when argument `arg` (a pointer) is NULL: both words 0."""
    arg: int

    def code(self, deny):
        return [(_LD_ABS_W, _ARGS + 8 * self.arg, None, None),
                (_JEQ, 0, None, deny),
                (_LD_ABS_W, _ARGS + 8 * self.arg + 4, None, None),
                (_JEQ, 0, None, deny)]


NO_CREATE = (FlagsClear(1, CREATE_FLAGS),)

# name -> the rules its arguments must pass (none: always allowed).
ALLOWED = {
    # files: read what the jail shows, write to descriptors it was given
    "read": (), "write": (), "readv": (), "writev": (), "pread64": (), "pwrite64": (),
    "close": (), "lseek": (), "fadvise64": (),
    "open": NO_CREATE, "openat": (FlagsClear(2, CREATE_FLAGS),),
    "stat": (), "fstat": (), "lstat": (), "newfstatat": (), "statx": (),
    "access": (), "faccessat": (), "faccessat2": (),
    "readlink": (), "readlinkat": (), "getdents64": (), "getcwd": (),
    "statfs": (), "fstatfs": (),
    "dup": (), "dup2": (), "dup3": (),
    "fcntl": (OneOf(1, (F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD_CLOEXEC)),),
    "ioctl": (OneOf(1, (TCGETS, TIOCGWINSZ, FIONREAD, FIONBIO, FIOCLEX)),),
    "poll": (), "ppoll": (), "select": (), "pselect6": (),
    # memory of this process
    "mmap": (), "munmap": (), "mprotect": (), "mremap": (), "madvise": (), "brk": (),
    "mbind": (), "get_mempolicy": (), "set_mempolicy": (),
    # this one thread: locks, signals to itself, its own identity and limits
    "futex": (), "set_robust_list": (), "get_robust_list": (), "rseq": (),
    "rt_sigaction": (), "rt_sigprocmask": (), "rt_sigreturn": (), "sigaltstack": (),
    "restart_syscall": (), "sched_yield": (), "sched_getaffinity": (),
    "getpid": (), "gettid": (), "getppid": (), "getpgrp": (), "getpgid": (), "getsid": (),
    "getuid": (), "geteuid": (), "getgid": (), "getegid": (), "getgroups": (),
    "getresuid": (), "getresgid": (),
    "getrlimit": (), "prlimit64": (Null(2),), "getrusage": (), "times": (),
    "uname": (), "sysinfo": (), "getrandom": (),
    # time (the vDSO answers most of these without a call, not on every machine)
    "clock_gettime": (), "clock_getres": (), "gettimeofday": (), "time": (),
    "nanosleep": (), "clock_nanosleep": (),
    "exit": (), "exit_group": (),
}


class UnsupportedArch(RuntimeError):
    """No filter is known for this machine's architecture."""


def _ins(code, k, jt=0, jf=0):
    return struct.pack("=HBBI", code, jt, jf, k)


def machine():
    m = os.uname().machine.lower()       # what platform.machine() reads, without its import
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(m, m)


def _assemble(lines):
    """Classic BPF from (code, k, true_label, false_label) and ("label", name) lines;
    a jump's labels (None: the next instruction) become forward offsets."""
    where, pc = {}, 0
    for line in lines:
        if line[0] == "label":
            where[line[1]] = pc
        else:
            pc += 1
    out, pc = [], 0
    for line in lines:
        if line[0] == "label":
            continue
        code, k, t, f = line
        off = [0 if x is None else where[x] - pc - 1 for x in (t, f)]
        assert all(0 <= o <= 255 for o in off), "jump out of range"
        out.append(_ins(code, k, *off))
        pc += 1
    return b"".join(out)


def _decision(nr, rules, tag):
    """Lines for one allowed number, the accumulator holding the call's number:
    on a match its rules, then allow; otherwise fall through past them."""
    skip, deny = f"skip{tag}", f"deny{tag}"
    lines: list[tuple] = [(_JEQ, nr, None, skip)]
    for rule in rules:
        lines += rule.code(deny)
    lines.append((_RET, RET_ALLOW, None, None))
    if rules:
        lines += [("label", deny), (_RET, DENY, None, None)]
    return lines + [("label", skip)]


def _search(entries, tag="n"):
    """A binary search over sorted (number, rules): each leaf ends in a return,
    so every jump stays short (classic BPF jumps reach 255 instructions)."""
    if len(entries) <= 4:
        lines = []
        for i, (nr, rules) in enumerate(entries):
            lines += _decision(nr, rules, f"{tag}.{i}")
        return lines + [(_RET, DENY, None, None)]
    mid = len(entries) // 2
    right = f"r{tag}"
    return ([(_JGE, entries[mid][0], right, None)] + _search(entries[:mid], tag + "0")
            + [("label", right)] + _search(entries[mid:], tag + "1"))


def program(arch=None, allowed=None):
    """The BPF program (bytes, 8 per instruction) for `arch` (default: this machine).

    `allowed`: {name: rules} to allow instead of ALLOWED (dev/derive_seccomp.py
    uses it); names unknown on `arch` are left out."""
    arch = arch or machine()
    if arch not in ARCHES:
        raise UnsupportedArch(f"no seccomp filter for {arch} (known: {', '.join(ARCHES)})")
    audit_arch, numbers = ARCHES[arch]
    allowed = ALLOWED if allowed is None else allowed
    entries = sorted((numbers[n], rules) for n, rules in allowed.items() if n in numbers)
    lines = [(_LD_ABS_W, _ARCH, None, None),
             (_JEQ, audit_arch, "abi", None),
             (_RET, DENY, None, None),                      # another ABI
             ("label", "abi"),
             (_LD_ABS_W, _NR, None, None)]
    if arch == "x86_64":
        lines += [(_JGE, X32_BIT, None, "native"),
                  (_RET, DENY, None, None),                 # x32
                  ("label", "native")]
    return _assemble(lines + _search(entries))


def known(arch=None):
    """True when a filter exists for `arch` (default: this machine)."""
    return (arch or machine()) in ARCHES


def allowed_numbers(arch=None):
    """{number: rules} that `program(arch)` lets through (rules: argument checks)."""
    _, numbers = ARCHES[arch or machine()]
    return {numbers[n]: rules for n, rules in ALLOWED.items() if n in numbers}


# Stand-alone source (stdlib only) that installs a filter given as hex in
# argv[1] and then runs the script argv[2] as __main__. Both modes start the
# worker through it: the filter holds before any line of the worker runs, and
# execve is not needed after it (bwrap's own --seccomp would have to allow it).
BOOT = r"""
import sys
def _seal(prog):
    import ctypes
    class F(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(prog, len(prog))
    f = F(len(prog) // 8, ctypes.addressof(buf))
    if libc.prctl(38, 1, 0, 0, 0) != 0:                  # PR_SET_NO_NEW_PRIVS
        raise SystemExit("seccomp: PR_SET_NO_NEW_PRIVS failed")
    if libc.prctl(22, 2, ctypes.byref(f), 0, 0) != 0:    # PR_SET_SECCOMP, MODE_FILTER
        raise SystemExit("seccomp: the filter was refused")
    for m in [m for m in sys.modules if m == "_ctypes" or m.split(".")[0] == "ctypes"]:
        del sys.modules[m]      # so a student's `import ctypes` is seen again
_seal(bytes.fromhex(sys.argv[1]))
del _seal
import runpy
path = sys.argv[2]
sys.argv = [path]
runpy.run_path(path, run_name="__main__")
"""


def boot_argv(python, worker, prog=None):
    """argv that starts `worker` (a path) in `python` under the filter `prog`
    (default: this machine's; None when no filter is known here: no BOOT)."""
    if prog is None:
        try:
            prog = program()
        except UnsupportedArch:
            return [python, "-I", "-B", str(worker)]
    return [python, "-I", "-B", "-c", BOOT, prog.hex(), str(worker)]


def install(prog=None):
    """Load the filter into this process (irreversible; used by tests)."""
    import ctypes

    class _Fprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
    prog = prog or program()
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(prog, len(prog))
    fprog = _Fprog(len(prog) // 8, ctypes.addressof(buf))
    if libc.prctl(38, 1, 0, 0, 0) != 0 or libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "seccomp filter refused")

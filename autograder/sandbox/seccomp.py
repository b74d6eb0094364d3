"""A seccomp filter that keeps a jailed worker one single-threaded process.

Guarantee: a process under `no_new_processes()` gets EPERM (never a kill) from
every system call that creates a thread or a process (clone, clone3, fork,
vfork), enters or makes a namespace (unshare, setns), holds memory outside
RLIMIT_AS and the sized tmpfs (memfd_create, memfd_secret, io_uring_setup,
userfaultfd) or inspects other processes and the kernel (ptrace, bpf,
perf_event_open, the key-ring calls). Everything else is allowed. A call made
through another ABI (32-bit int 0x80 on x86_64, x32) gets EPERM whatever it is.

With the process count fixed at 1, RLIMIT_AS is a per-jail memory cap and no
per-user limit (RLIMIT_NPROC) is needed, so one student can never use up a
budget another student shares: that is the point of this module.

The program is plain classic BPF assembled here; bwrap loads it (`--seccomp
FD`), and `install()` loads it in the calling process (container mode).
"""
import platform
import struct

# <linux/filter.h>, <linux/seccomp.h>, <linux/audit.h>
_LD_ABS_W = 0x20        # BPF_LD | BPF_W | BPF_ABS
_JEQ = 0x15             # BPF_JMP | BPF_JEQ | BPF_K
_JGE = 0x35             # BPF_JMP | BPF_JGE | BPF_K
_RET = 0x06             # BPF_RET | BPF_K
RET_ALLOW = 0x7FFF0000
RET_ERRNO = 0x00050000
EPERM = 1
_X32_BIT = 0x40000000

DENIED_NAMES = ("clone", "clone3", "fork", "vfork", "unshare", "setns", "memfd_create",
                "memfd_secret", "io_uring_setup", "userfaultfd", "ptrace", "bpf",
                "perf_event_open", "keyctl", "add_key", "request_key")

# arch -> (AUDIT_ARCH_*, {name: number}); aarch64 has no fork/vfork.
ARCHES = {
    "x86_64": (0xC000003E, {
        "clone": 56, "fork": 57, "vfork": 58, "clone3": 435, "unshare": 272, "setns": 308,
        "memfd_create": 319, "memfd_secret": 447, "io_uring_setup": 425,
        "userfaultfd": 323, "ptrace": 101, "bpf": 321, "perf_event_open": 298,
        "keyctl": 250, "add_key": 248, "request_key": 249}),
    "aarch64": (0xC00000B7, {
        "clone": 220, "clone3": 435, "unshare": 97, "setns": 268, "memfd_create": 279,
        "memfd_secret": 447, "io_uring_setup": 425, "userfaultfd": 282, "ptrace": 117,
        "bpf": 280, "perf_event_open": 241, "keyctl": 219, "add_key": 217,
        "request_key": 218}),
}


class UnsupportedArch(RuntimeError):
    """No filter is known for this machine's architecture."""


def _ins(code, k, jt=0, jf=0):
    return struct.pack("=HBBI", code, jt, jf, k)


def machine():
    m = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(m, m)


def no_new_processes(arch=None):
    """The BPF program (bytes, 8 per instruction) for `arch` (default: this machine)."""
    arch = arch or machine()
    if arch not in ARCHES:
        raise UnsupportedArch(f"no seccomp filter for {arch} (known: {', '.join(ARCHES)})")
    audit_arch, numbers = ARCHES[arch]
    denied = sorted(numbers[n] for n in DENIED_NAMES if n in numbers)
    # Layout: [ld arch][jeq arch][ld nr][(jge x32)][jeq nr]*[ret allow][ret deny].
    # Every conditional jumps forward to the final deny; "to_deny" counts the
    # instructions in between.
    checks = ([("jge", _X32_BIT)] if arch == "x86_64" else []) + [("jeq", n) for n in denied]
    body = [_ins(_LD_ABS_W, 0)]                       # seccomp_data.nr
    n_body = 1 + len(checks) + 1                      # ld nr, checks, ret allow
    for i, (op, k) in enumerate(checks):
        to_deny = n_body - (1 + i) - 1
        body.append(_ins(_JGE if op == "jge" else _JEQ, k, to_deny, 0))
    body.append(_ins(_RET, RET_ALLOW))
    out = [_ins(_LD_ABS_W, 4),                        # seccomp_data.arch
           _ins(_JEQ, audit_arch, 0, n_body),         # another ABI: straight to deny
           *body,
           _ins(_RET, RET_ERRNO | EPERM)]
    return b"".join(out)


# Stand-alone source (stdlib only) that installs a filter given as hex in
# argv[1] and then runs the script argv[2] as __main__. Container mode starts
# the worker through it: no grader module is readable by the student's uid.
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


def install(prog=None):
    """Load the filter into this process (irreversible; used by tests)."""
    import ctypes

    class _Fprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
    prog = prog or no_new_processes()
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(prog, len(prog))
    fprog = _Fprog(len(prog) // 8, ctypes.addressof(buf))
    if libc.prctl(38, 1, 0, 0, 0) != 0 or libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "seccomp filter refused")

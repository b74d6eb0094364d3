"""A seccomp filter that keeps a jailed worker one single-threaded process.

Guarantee: a process under `no_new_processes()` gets EPERM (never a kill) from
every system call that creates a thread or a process (clone, clone3, fork,
vfork), enters or makes a namespace (unshare, setns), holds memory outside
RLIMIT_AS and the sized tmpfs (memfd_create, memfd_secret, io_uring_setup,
userfaultfd) or inspects other processes and the kernel (ptrace, bpf,
perf_event_open, the key-ring calls), makes a new inode anywhere (creat, open or
openat with O_CREAT or O_TMPFILE, openat2, mkdir, mknod, link, symlink and their
*at forms) or gets System V shared memory, queues or semaphores. Everything else
is allowed. A call made through another ABI (32-bit int 0x80 on x86_64, x32) gets
EPERM whatever it is.

No new inodes: a tmpfs size bounds the bytes of its files, not their number, and
empty files cost the host kernel memory (about 1.5 GB for a million, measured
here) that no RLIMIT sees. Honest code for an exercise writes no file at all.

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
_JSET = 0x45            # BPF_JMP | BPF_JSET | BPF_K
_RET = 0x06             # BPF_RET | BPF_K
RET_ALLOW = 0x7FFF0000
RET_ERRNO = 0x00050000
EPERM = 1
_X32_BIT = 0x40000000
# open flags that make an inode: O_CREAT and __O_TMPFILE (same values on x86_64 and
# the generic ABI of aarch64).
CREATE_FLAGS = 0o100 | 0o20000000
_ARGS = 16              # offsetof(struct seccomp_data, args); each 8 bytes, low word first

DENIED_NAMES = ("clone", "clone3", "fork", "vfork", "unshare", "setns", "memfd_create",
                "memfd_secret", "io_uring_setup", "userfaultfd", "ptrace", "bpf",
                "perf_event_open", "keyctl", "add_key", "request_key",
                "creat", "openat2", "mkdir", "mkdirat", "mknod", "mknodat", "link", "linkat",
                "symlink", "symlinkat", "shmget", "msgget", "semget")
# name -> index of its flags argument: denied when the flags would create an inode.
FLAG_CHECKED = {"open": 1, "openat": 2}

# arch -> (AUDIT_ARCH_*, {name: number}); aarch64 has no fork/vfork, nor the
# pre-*at forms (open, creat, mkdir, mknod, link, symlink).
ARCHES = {
    "x86_64": (0xC000003E, {
        "clone": 56, "fork": 57, "vfork": 58, "clone3": 435, "unshare": 272, "setns": 308,
        "memfd_create": 319, "memfd_secret": 447, "io_uring_setup": 425,
        "userfaultfd": 323, "ptrace": 101, "bpf": 321, "perf_event_open": 298,
        "keyctl": 250, "add_key": 248, "request_key": 249,
        "open": 2, "openat": 257, "creat": 85, "openat2": 437, "mkdir": 83, "mkdirat": 258,
        "mknod": 133, "mknodat": 259, "link": 86, "linkat": 265, "symlink": 88,
        "symlinkat": 266, "shmget": 29, "msgget": 68, "semget": 64}),
    "aarch64": (0xC00000B7, {
        "clone": 220, "clone3": 435, "unshare": 97, "setns": 268, "memfd_create": 279,
        "memfd_secret": 447, "io_uring_setup": 425, "userfaultfd": 282, "ptrace": 117,
        "bpf": 280, "perf_event_open": 241, "keyctl": 219, "add_key": 217,
        "request_key": 218,
        "openat": 56, "openat2": 437, "mkdirat": 34, "mknodat": 33, "linkat": 37,
        "symlinkat": 36, "shmget": 194, "msgget": 186, "semget": 190}),
}


class UnsupportedArch(RuntimeError):
    """No filter is known for this machine's architecture."""


def _ins(code, k, jt=0, jf=0):
    return struct.pack("=HBBI", code, jt, jf, k)


def machine():
    m = platform.machine().lower()
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


def no_new_processes(arch=None):
    """The BPF program (bytes, 8 per instruction) for `arch` (default: this machine)."""
    arch = arch or machine()
    if arch not in ARCHES:
        raise UnsupportedArch(f"no seccomp filter for {arch} (known: {', '.join(ARCHES)})")
    audit_arch, numbers = ARCHES[arch]
    denied = sorted(numbers[n] for n in DENIED_NAMES if n in numbers)
    checked = sorted((numbers[n], i) for n, i in FLAG_CHECKED.items() if n in numbers)
    lines = [(_LD_ABS_W, 4, None, None),                    # seccomp_data.arch
             (_JEQ, audit_arch, None, "deny"),              # another ABI: deny
             (_LD_ABS_W, 0, None, None)]                    # seccomp_data.nr
    if arch == "x86_64":
        lines.append((_JGE, _X32_BIT, "deny", None))
    lines += [(_JEQ, nr, "deny", None) for nr in denied]
    lines += [(_JEQ, nr, f"flags{i}", None) for nr, i in checked]
    lines.append((_RET, RET_ALLOW, None, None))
    for i in sorted({i for _, i in checked}):
        lines += [("label", f"flags{i}"),
                  (_LD_ABS_W, _ARGS + 8 * i, None, None),  # the flags' low word
                  (_JSET, CREATE_FLAGS, "deny", None),
                  (_RET, RET_ALLOW, None, None)]
    lines += [("label", "deny"), (_RET, RET_ERRNO | EPERM, None, None)]
    return _assemble(lines)


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

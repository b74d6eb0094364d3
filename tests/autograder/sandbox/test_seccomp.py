"""The seccomp allow-list: what the program decides, per architecture, and that the
kernel refuses every other call inside each sandbox mode."""
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.sandbox import WorkerProcess, bwrap_available, seccomp
from autograder.sandbox import container, syscalls

AUDIT = {arch: a for arch, (a, _) in syscalls.ARCHES.items()}
ALLOW, DENY = seccomp.RET_ALLOW, seccomp.DENY
MAX_NR = 1024      # well past the last call of any kernel (about 470 in 2026)
# x86_64's uretprobe (335, Linux 6.11+) and uprobe (336, Linux 6.16+) are answered
# before any seccomp filter runs; called from anywhere but a uprobe trampoline they
# only fail (uprobe: ENXIO) or kill the caller (uretprobe: SIGILL), nothing else.
BEFORE_SECCOMP = {"x86_64": [335, 336]}


def run_bpf(prog, nr, arch, args=(0,) * 6):
    """A classic-BPF interpreter for the instructions the program uses."""
    ins = [struct.unpack("=HBBI", prog[i:i + 8]) for i in range(0, len(prog), 8)]
    data = {0: nr, 4: arch}
    for i, a in enumerate(args):
        data[16 + 8 * i], data[20 + 8 * i] = a & 0xFFFFFFFF, a >> 32
    pc, acc = 0, 0
    while True:
        code, jt, jf, k = ins[pc]
        if code == 0x20:
            acc = data[k]
        elif code == 0x15:
            pc += jt if acc == k else jf
        elif code == 0x35:
            pc += jt if acc >= k else jf
        elif code == 0x45:
            pc += jt if acc & k else jf
        elif code == 0x06:
            return k
        else:
            raise AssertionError(f"unexpected instruction {code:#x}")
        pc += 1


def decide(arch, name, **args):
    """The program's verdict on `name` called with args {index: value} (others 0)."""
    a = [0] * 6
    for k, v in args.items():
        a[int(k[1:])] = v
    return run_bpf(seccomp.program(arch), syscalls.ARCHES[arch][1][name], AUDIT[arch], a)


@pytest.mark.parametrize("arch", sorted(syscalls.ARCHES))
def test_every_number_outside_the_allow_list_is_refused(arch):
    prog = seccomp.program(arch)
    allowed = seccomp.allowed_numbers(arch)
    assert len(allowed) == sum(n in syscalls.ARCHES[arch][1] for n in seccomp.ALLOWED)
    for nr in range(MAX_NR):
        got = run_bpf(prog, nr, AUDIT[arch])
        if nr not in allowed:
            assert got == DENY, nr
        elif not allowed[nr]:
            assert got == ALLOW, nr
    for nr in (0x3FFFFFFF, 0x7FFFFFFF, 0xFFFFFFFF):
        assert run_bpf(prog, nr, AUDIT[arch]) == DENY
    # Another ABI (32-bit calls on a 64-bit kernel) is refused whatever the call.
    assert run_bpf(prog, 0, 0x40000003) == DENY and run_bpf(prog, 1, 0x40000003) == DENY


@pytest.mark.parametrize("arch", sorted(syscalls.ARCHES))
def test_what_the_list_leaves_out(arch):
    """Each class of the issue, by name: processes, network and IPC, new inodes."""
    numbers = syscalls.ARCHES[arch][1]
    for name in ("clone", "clone3", "fork", "vfork", "execve", "socket", "socketpair", "bind",
                 "connect", "sendto", "sendmsg", "mq_open", "shmget", "msgget", "semget",
                 "pipe", "pipe2", "mkdir", "mknod", "link", "symlink", "creat", "openat2",
                 "rename", "unlink", "memfd_create", "kill", "ptrace", "setrlimit", "unshare"):
        assert name not in seccomp.ALLOWED and name not in numbers, name


def test_x32_calls_are_refused():
    prog = seccomp.program("x86_64")
    for nr in (0, 1, 2, 257):      # read, write, open, openat in the x32 numbering
        assert run_bpf(prog, syscalls.X32_BIT + nr, AUDIT["x86_64"]) == DENY


@pytest.mark.parametrize("arch", sorted(syscalls.ARCHES))
def test_argument_checked_calls(arch):
    O_WRONLY, O_TRUNC, O_CREAT, O_TMPFILE = 1, 0o1000, 0o100, 0o20200000
    for name, i in (("open", 1), ("openat", 2)):
        if name not in syscalls.ARCHES[arch][1]:
            continue
        assert decide(arch, name, **{f"a{i}": 0}) == ALLOW
        assert decide(arch, name, **{f"a{i}": O_WRONLY | O_TRUNC}) == ALLOW
        assert decide(arch, name, **{f"a{i}": O_WRONLY | O_CREAT}) == DENY
        assert decide(arch, name, **{f"a{i}": O_TMPFILE | O_WRONLY}) == DENY
        # Only the low word is the flags (an int): high bits do not smuggle O_CREAT out.
        assert decide(arch, name, **{f"a{i}": (1 << 32) | O_CREAT}) == DENY
    F_SETLK, F_SETLKW, F_OFD_SETLK, F_SETPIPE_SZ, F_SETOWN = 6, 7, 37, 1031, 8
    for cmd in (syscalls.F_GETFD, syscalls.F_SETFD, syscalls.F_GETFL, syscalls.F_DUPFD_CLOEXEC):
        assert decide(arch, "fcntl", a1=cmd) == ALLOW
    for cmd in (F_SETLK, F_SETLKW, F_OFD_SETLK, F_SETPIPE_SZ, F_SETOWN):
        assert decide(arch, "fcntl", a1=cmd) == DENY, cmd
    TIOCSTI, TIOCSCTTY, FICLONE = 0x5412, 0x540E, 0x40049409
    assert decide(arch, "ioctl", a1=syscalls.TCGETS) == ALLOW
    for cmd in (TIOCSTI, TIOCSCTTY, FICLONE):
        assert decide(arch, "ioctl", a1=cmd) == DENY
    assert decide(arch, "prlimit64") == ALLOW                       # read a limit
    assert decide(arch, "prlimit64", a2=0x7FFC1000) == DENY         # set one
    assert decide(arch, "prlimit64", a2=1 << 40) == DENY            # high word only


def _header_numbers(path, arch):
    text = Path(path).read_text()
    found = dict((m.group(1), int(m.group(2)))
                 for m in re.finditer(r"#define __NR(?:3264)?_(\w+)\s+(\d+)\b", text))
    if arch == "aarch64":      # asm-generic names the 64-bit forms through __NR3264_*
        found.update(fstat=found["fstat"], newfstatat=found["fstatat"])
    return found


@pytest.mark.parametrize("arch,header", [
    ("x86_64", "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"),
    ("aarch64", "/usr/include/asm-generic/unistd.h")])
def test_numbers_match_the_kernel_headers(arch, header):
    if not os.path.exists(header):
        pytest.skip(f"no {header} (linux-libc-dev)")
    want = _header_numbers(header, arch)
    for name, nr in syscalls.ARCHES[arch][1].items():
        assert want.get(name) == nr, (name, nr, want.get(name))


def test_unknown_architecture_is_said():
    with pytest.raises(seccomp.UnsupportedArch, match="riscv64"):
        seccomp.program("riscv64")


def test_the_allow_list_program_fits_and_is_short():
    # A binary search: any call runs a few dozen instructions at most.
    prog = seccomp.program("x86_64")
    assert len(prog) // 8 < 400


PROBE = r"""
import os, subprocess, threading
from autograder.sandbox import seccomp
seccomp.install()
out = []
for name, start in [("fork", os.fork), ("thread", lambda: threading.Thread(target=len).start()),
                    ("subprocess", lambda: subprocess.run(["true"]))]:
    try:
        start()
        out.append(name + " allowed")
    except (OSError, RuntimeError) as e:
        out.append(name + " refused")
import numpy as np
out.append("numpy %g" % (np.ones((50, 50)) @ np.ones(50)).sum())
print(";".join(out))
"""


@pytest.mark.skipif(not seccomp.known(), reason="no filter for this machine")
def test_kernel_refuses_with_eperm_and_the_process_carries_on():
    r = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60,
                       env={"OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "fork refused;thread refused;subprocess refused;numpy 2500"


def test_boot_installs_the_filter_then_runs_the_script(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("import os, sys\n"
                      "try:\n    os.fork()\nexcept OSError:\n    print('refused', sys.argv[0], "
                      "'ctypes' in sys.modules)\n")
    r = subprocess.run(seccomp.boot_argv(sys.executable, script),
                       capture_output=True, text=True, timeout=60)
    assert r.stdout.split() == ["refused", str(script), "False"], r.stderr


# ------------------------------------------------------- inside each sandbox mode
# Every number outside the allow-list, called with zero arguments, and the
# argument-checked calls with forbidden arguments: each must fail with EPERM.
# Returns [calls made, then the numbers that did not fail with EPERM].
EVERY_CALL = r"""
import ctypes, os
_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
def every_call(first, last, skip):
    skip = set(int(s) for s in skip)
    made, wrong = 0, []
    for nr in range(int(first), int(last)):
        if nr in skip:
            continue
        ctypes.set_errno(0)
        r = _libc.syscall(ctypes.c_long(nr), 0, 0, 0, 0, 0, 0)
        made += 1
        if r != -1 or ctypes.get_errno() != 1:
            wrong.append(nr)
    return [made] + wrong

def forbidden_arguments(nrs):
    nr = dict(zip(("open", "openat", "fcntl", "ioctl", "prlimit64"), map(int, nrs)))
    path = b"/tmp/made-by-the-jail"
    new_limit = (ctypes.c_ulong * 2)(1, 1)
    calls = {
        "open O_CREAT": (nr["open"], path, 0o101, 0o600),
        "openat O_CREAT": (nr["openat"], -100, path, 0o101, 0o600),
        "openat O_TMPFILE": (nr["openat"], -100, b"/tmp", 0o20200002, 0o600),
        "fcntl F_SETLK": (nr["fcntl"], 0, 6, 0),
        "fcntl F_SETPIPE_SZ": (nr["fcntl"], 1, 1031, 4096),
        "ioctl TIOCSTI": (nr["ioctl"], 0, 0x5412, 0),
        "prlimit64 set": (nr["prlimit64"], 0, 0, ctypes.addressof(new_limit), 0),
    }
    wrong = []
    for i, (what, args) in enumerate(calls.items()):
        if args[0] < 0:
            continue
        ctypes.set_errno(0)
        r = _libc.syscall(*[ctypes.c_long(a) if isinstance(a, int) else a for a in args])
        if r != -1 or ctypes.get_errno() != 1:
            wrong.append(i)
    # The same calls with allowed arguments work.
    fd = _libc.syscall(ctypes.c_long(nr["openat"]), ctypes.c_long(-100), b"/proc/self/status",
                       ctypes.c_long(0), ctypes.c_long(0))
    ok = fd >= 0 and _libc.syscall(ctypes.c_long(nr["fcntl"]), ctypes.c_long(fd),
                                   ctypes.c_long(1), ctypes.c_long(0)) >= 0
    return [float(ok), float(os.path.exists(path))] + wrong
"""


def _modes():
    found = []
    if bwrap_available():
        found.append("bubblewrap")
    if os.geteuid() == 0:
        found.append("container")
    return found


@pytest.fixture(params=["bubblewrap", "container"])
def sandbox(request, monkeypatch):
    if request.param not in _modes():
        pytest.skip(f"{request.param} mode cannot run here")
    if request.param == "bubblewrap":
        from autograder.sandbox.bubblewrap import BubblewrapMode
        yield BubblewrapMode()
        return
    monkeypatch.setattr(container, "grader_paths", lambda extra=(): ([], []))
    m = container.ContainerMode()
    yield m
    m.close()


def _call(w, fn, *args, timeout=120):
    r = w.request({"op": "call", "fn": fn, "calls": [list(args)]}, timeout)["results"][0]
    assert "value" in r, r
    return [int(v) for v in r["value"].tolist()]


@pytest.mark.skipif(seccomp.machine() != "x86_64", reason="numbers of x86_64")
def test_every_call_outside_the_list_fails_with_eperm_in_the_jail(sandbox):
    allowed = sorted(seccomp.allowed_numbers("x86_64"))
    skip = allowed + BEFORE_SECCOMP["x86_64"]
    with WorkerProcess(sandbox=sandbox) as w:
        assert w.request({"op": "exec", "name": "every_call", "source": EVERY_CALL}, 30)["ok"]
        made, *wrong = _call(w, "every_call", 0, MAX_NR, skip)
        assert made == MAX_NR - len(skip) and wrong == [], wrong
        # x32 numbers (the same calls through another ABI) are refused too.
        made, *wrong = _call(w, "every_call", syscalls.X32_BIT, syscalls.X32_BIT + 548, [])
        assert made == 548 and wrong == [], wrong
        numbers = syscalls.X86_64
        ok, made_file, *wrong = _call(w, "forbidden_arguments",
                                      [numbers[n] for n in ("open", "openat", "fcntl", "ioctl",
                                                            "prlimit64")])
        assert wrong == [] and made_file == 0, wrong
        assert ok == 1
        # The worker is still there and answers.
        assert w.request({"op": "ping"}, 20)


# ------------------------------------------------- no unfiltered process beside it
# The filter binds the worker only. A process of the student's uid that runs outside it
# (bubblewrap's pid-1 reaper was one) could have its memory written through
# /proc/<pid>/mem, an open(2) the filter cannot tell from any other: the student's code
# would then run there, free of the allow-list. Returns 0, or raises naming every other
# process whose memory, descriptors or root this one could open, and how.
OTHER_PROCESSES = r"""
import os
def reachable():
    me, found = str(os.getpid()), []
    for pid in [p for p in os.listdir("/proc") if p.isdigit() and p != me]:
        for what, how in (("mem", os.O_RDWR), ("mem", os.O_RDONLY), ("environ", os.O_RDONLY)):
            try:
                os.close(os.open(f"/proc/{pid}/{what}", how))
                found.append(f"{pid}:{what}:{how}")
            except OSError:
                pass
        for what in ("fd", "root", "cwd"):
            try:
                os.listdir(f"/proc/{pid}/{what}")
                found.append(f"{pid}:{what}")
            except OSError:
                pass
    if found:
        raise ValueError(" ".join(found))
    return 0
"""


def test_no_other_process_of_the_jail_can_be_reached(sandbox):
    with WorkerProcess(sandbox=sandbox) as w:
        assert w.request({"op": "exec", "name": "others", "source": OTHER_PROCESSES}, 30)["ok"]
        r = w.request({"op": "call", "fn": "reachable", "calls": [[]]}, 60)["results"][0]
        assert r.get("ok") and r["value"] == 0, r

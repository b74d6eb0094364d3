"""The seccomp program: what it decides, per architecture, and that the kernel agrees."""
import struct
import subprocess
import sys

import pytest

from autograder.sandbox import seccomp

AUDIT = {arch: a for arch, (a, _) in seccomp.ARCHES.items()}
ALLOW, DENY = seccomp.RET_ALLOW, seccomp.RET_ERRNO | seccomp.EPERM


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


@pytest.mark.parametrize("arch", sorted(seccomp.ARCHES))
def test_denies_process_creation_and_allows_the_rest(arch):
    prog = seccomp.no_new_processes(arch)
    numbers = seccomp.ARCHES[arch][1]
    for name in seccomp.DENIED_NAMES:
        if name in numbers:
            assert run_bpf(prog, numbers[name], AUDIT[arch]) == DENY, name
    denied = {numbers[n] for n in seccomp.DENIED_NAMES if n in numbers}
    for nr in range(0, 450):
        if nr not in denied:
            assert run_bpf(prog, nr, AUDIT[arch]) == ALLOW, nr
    # Another ABI (32-bit calls on a 64-bit kernel) is refused whatever the call.
    assert run_bpf(prog, 1, 0x40000003) == DENY


@pytest.mark.parametrize("arch", sorted(seccomp.ARCHES))
def test_opening_is_allowed_but_creating_a_file_is_not(arch):
    prog, numbers = seccomp.no_new_processes(arch), seccomp.ARCHES[arch][1]
    O_RDONLY, O_WRONLY, O_CREAT, O_TRUNC, O_TMPFILE = 0, 1, 0o100, 0o1000, 0o20200000
    for name, i in seccomp.FLAG_CHECKED.items():
        if name not in numbers:
            continue
        def decide(flags):
            args = [0] * 6
            args[i] = flags
            return run_bpf(prog, numbers[name], AUDIT[arch], args)
        assert decide(O_RDONLY) == ALLOW and decide(O_WRONLY | O_TRUNC) == ALLOW, name
        assert decide(O_WRONLY | O_CREAT) == DENY and decide(O_TMPFILE | O_WRONLY) == DENY, name


def test_x32_calls_are_refused():
    prog = seccomp.no_new_processes("x86_64")
    assert run_bpf(prog, 0x40000000 + 57, AUDIT["x86_64"]) == DENY


def test_unknown_architecture_is_said():
    with pytest.raises(seccomp.UnsupportedArch, match="riscv64"):
        seccomp.no_new_processes("riscv64")


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


@pytest.mark.skipif(seccomp.machine() not in seccomp.ARCHES, reason="no filter for this machine")
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
    r = subprocess.run([sys.executable, "-I", "-c", seccomp.BOOT,
                        seccomp.no_new_processes().hex(), str(script)],
                       capture_output=True, text=True, timeout=60)
    assert r.stdout.split() == ["refused", str(script), "False"], r.stderr

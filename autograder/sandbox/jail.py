"""The bubblewrap jail and the resource limits of one worker.

What the jail sees: /usr, /lib*, /bin, /etc/ld.so.cache, the Python
installation and the virtual environment, all read-only; the worker script at
/grader/worker.py; a private /tmp of a fixed size and a one-page /dev/shm. No
network, no other submission, no solutions, no gradebook, no output folder,
not this package.

Caps per jail, as root or as any user, on any cgroup version:
- one process, one thread: the seccomp filter (seccomp.py) refuses clone,
  fork and the rest, so nothing a student starts counts against any shared
  per-user budget (RLIMIT_NPROC is not used where the filter is in force);
- memory: RLIMIT_AS of that one process plus the sized tmpfs; `memory_budget`
  splits `Limits.memory_mb` between them so the sum is what `--memory` says;
- CPU: RLIMIT_CPU; files: RLIMIT_FSIZE; descriptors: RLIMIT_NOFILE.
As root, a memory+pids cgroup (v1, or v2 where the unified hierarchy has those
controllers) is added around the whole jail, bwrap included, as a second wall.
"""
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .bwrap import SandboxUnavailable, available as bwrap_available  # noqa: F401

WORKER = Path(__file__).with_name("worker.py")
CGROUP_ROOT = Path("/sys/fs/cgroup")
SHM_BYTES = 4096            # /dev/shm: one page; honest code never needs it
NOFILE = 256
# Folders made in the jail's private home before the student's code runs (which may
# create no file or folder itself): where libraries look for their cache and
# configuration. matplotlib's holds the font list built outside (fontlist.py).
HOME_DIRS = (".cache", ".config", ".config/matplotlib")
MPL_DIR = ".config/matplotlib"


@dataclass(frozen=True)
class Limits:
    memory_mb: int = 1024      # everything one submission may hold: address space + tmpfs
    cpu_seconds: int = 600     # CPU time per worker process (a backstop)
    processes: int = 16        # only where no seccomp filter exists for this machine
    file_mb: int = 64          # size of the jail's /tmp, and of any one file it writes


def memory_budget(limits):
    """(address-space MB, /tmp MB): together `limits.memory_mb`."""
    tmp = max(1, min(limits.file_mb, limits.memory_mb // 4))
    return limits.memory_mb - tmp, tmp


def _read_only_roots():
    """Folders the worker's Python needs, each bound read-only at its own path."""
    roots = []
    for p in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.lexists(p):
            roots.append(p)
    # The prefixes, and import folders under the venv that are links elsewhere.
    venv_paths = [p for p in sys.path if p and p.startswith(sys.prefix.rstrip("/") + "/")]
    for p in {sys.base_prefix, sys.prefix, sys.exec_prefix, sys.base_exec_prefix, *venv_paths}:
        rp = os.path.realpath(p)
        if not os.path.isdir(rp):
            continue
        if not any(rp == r or rp.startswith(r + "/") for r in ("/usr", "/bin", "/lib")):
            roots.append(rp)
    roots = sorted(set(roots))
    # A folder already inside another bound root needs no bind of its own.
    return [r for r in roots if not any(r.startswith(o.rstrip("/") + "/") for o in roots)]


def _interpreter_bind(python):
    """(source, target) making `python` start inside the jail, or None.

    `python` is usually a venv symlink; when its final target cannot be
    reached (a Python under another user's home, say) the base interpreter
    we can reach stands in at that target path, so the venv still applies.
    """
    target, hops = python, 0
    while hops < 40:
        try:
            link = os.readlink(target)
        except OSError:
            break
        target = os.path.join(os.path.dirname(target), link)
        hops += 1
    if os.access(target, os.X_OK):
        return None
    base = os.path.join(sys.base_prefix, "bin", "python%d.%d" % sys.version_info[:2])
    if os.access(base, os.X_OK):
        return os.path.realpath(base), os.path.normpath(target)
    return None


def grader_copies():
    """Every folder holding this package: the checkout and any installed copy."""
    here = Path(__file__).resolve().parents[1]   # the autograder package
    # A non-editable install would put another copy in site-packages.
    copies = [Path(p).resolve() / "autograder" for p in sys.path
              if p and (Path(p) / "autograder" / "sandbox").is_dir()]
    return sorted({here, *copies})


def _masks(roots):
    """Grader code reachable through a bound folder is hidden under a tmpfs."""
    repo = Path(__file__).resolve().parents[2]
    masks = []
    # dev/ and bench/ hold mistake rewrites and kernels that restate the reference.
    for secret in [repo / "solutions", repo / "tests", repo / "dev", repo / "bench", *grader_copies()]:
        s = str(secret)
        if any(s.startswith(r.rstrip("/") + "/") for r in roots):
            masks.append(s)
    return sorted(set(masks))


def bwrap_command(bw, python, limits, fonts=None):
    """argv that runs worker.py in a bubblewrap jail (`bw`: a bwrap.Bwrap), under
    the seccomp filter its Python loads before the worker's first line (seccomp.BOOT).

    fonts: (descriptor, file name) of matplotlib's font list (fontlist.py), or None."""
    from .seccomp import boot_argv
    roots = _read_only_roots()
    _, tmp_mb = memory_budget(limits)
    # --as-pid-1: the worker is the jail's only process. bwrap's own pid-1 reaper would
    # run as the student's uid, dumpable and outside the seccomp filter (it is started
    # before the filter is loaded), so the student's code could open /proc/1/mem for
    # writing and run its own code there, free of every rule of the allow-list.
    cmd = [bw.path, "--die-with-parent", "--new-session", "--unshare-all",
           "--unshare-user", "--as-pid-1", "--uid", "65534", "--gid", "65534",
           "--cap-drop", "ALL", "--hostname", "sandbox"]
    # /tmp first: a Python or venv under /tmp is then bound on top of it.
    cmd += (["--size", str(tmp_mb << 20)] if bw.sized_tmpfs else []) + ["--tmpfs", "/tmp"]
    for d in HOME_DIRS:
        cmd += ["--dir", f"/tmp/{d}"]
    if fonts is not None:
        cmd += ["--ro-bind-data", str(fonts[0]), f"/tmp/{MPL_DIR}/{fonts[1]}"]
    for r in roots:
        cmd += ["--ro-bind", r, r]
    for s in ("/etc/ld.so.cache", "/etc/localtime"):
        if os.path.exists(s):
            cmd += ["--ro-bind", s, s]
    stand_in = _interpreter_bind(python)
    if stand_in:
        cmd += ["--ro-bind", *stand_in]
    for m in _masks(roots):
        cmd += ["--tmpfs", m]
    cmd += ["--proc", "/proc", "--dev", "/dev"]
    if bw.sized_tmpfs:
        # bwrap's /dev/shm is a folder on /dev's unsized tmpfs: replace it, and
        # make the rest of /dev read-only.
        cmd += ["--size", str(SHM_BYTES), "--tmpfs", "/dev/shm", "--remount-ro", "/dev"]
    cmd += ["--ro-bind", str(WORKER), "/grader/worker.py", "--chdir", "/tmp",
            "--", *boot_argv(python, "/grader/worker.py")]
    return cmd


def worker_env(home="/tmp"):
    """A small, fixed environment: one BLAS thread, nothing inherited; caches and
    configuration in the private home's HOME_DIRS."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONHASHSEED": "0",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": f"{home}/{MPL_DIR}",
        "XDG_CACHE_HOME": f"{home}/.cache",
        "XDG_CONFIG_HOME": f"{home}/.config",
    }


def limit_argv(limits, cgroup, nproc=None):
    """argv prefix that joins the cgroup and sets rlimits, then execs the rest.

    Done with `sh` and util-linux `prlimit` rather than a preexec_fn, which is
    unsafe in a process that grades with several threads. `nproc`: an
    RLIMIT_NPROC to set (None: leave it; the seccomp filter caps processes).
    """
    as_mb, _ = memory_budget(limits)
    fsize = limits.file_mb * 1024 * 1024
    cmd = []
    join = "".join(f'echo $$ > "{p}" 2>/dev/null; ' for p in cgroup.procs_files())
    if join:
        cmd = ["sh", "-c", join + 'exec "$@"', "sh"]
    cmd += ["prlimit", f"--as={as_mb << 20}",
            f"--cpu={limits.cpu_seconds}:{limits.cpu_seconds + 5}",
            f"--fsize={fsize}", "--core=0", f"--nofile={NOFILE}"]
    if nproc is not None:
        cmd.append(f"--nproc={nproc}")
    return cmd + ["--"]


# ------------------------------------------------------------------ cgroups


def _v2_root():
    """The unified hierarchy when it has the memory and pids controllers to give."""
    for root in (CGROUP_ROOT, CGROUP_ROOT / "unified"):
        try:
            ctl = (root / "cgroup.subtree_control").read_text().split()
        except OSError:
            continue
        if "memory" in ctl and "pids" in ctl and os.access(root, os.W_OK):
            return root
    return None


def cgroup_kind():
    """'v1', 'v2' or None: what JailCgroups would use here (root only)."""
    if os.geteuid() != 0:
        return None
    if all(os.access(CGROUP_ROOT / c, os.W_OK) for c in ("pids", "memory")):
        return "v1"
    return "v2" if _v2_root() is not None else None


class JailCgroups:
    """A memory+pids cgroup around one whole jail, when we are root and may.

    An extra wall: the per-jail caps themselves come from the seccomp filter
    and the rlimits, which hold without it. cgroup v1 (pids, memory
    controllers) or v2 (a child of a unified root that delegates both).
    """

    def __init__(self, name, limits):
        self.paths = []
        kind = cgroup_kind()
        if kind is None:
            return
        # Slack for bwrap itself; the worker's own cap is RLIMIT_AS.
        memory = (limits.memory_mb + 256) * 1024 * 1024
        pids = 8      # bwrap and the worker (its pid 1): the filter keeps it there
        if kind == "v1":
            knobs = [(CGROUP_ROOT / "pids", [("pids.max", pids)]),
                     (CGROUP_ROOT / "memory", [("memory.limit_in_bytes", memory)])]
            if os.access(CGROUP_ROOT / "cpuacct", os.W_OK):
                knobs.append((CGROUP_ROOT / "cpuacct", []))     # CPU accounting only
        else:
            knobs = [(_v2_root(), [("pids.max", pids), ("memory.max", memory),
                                   ("memory.swap.max", 0)])]
        for root, values in knobs:
            path = root / f"autograder-{name}"
            try:
                path.mkdir(exist_ok=True)
                for knob, value in values:
                    if (path / knob).exists():
                        (path / knob).write_text(str(value))
                self.paths.append(path)
            except OSError:
                try:
                    path.rmdir()
                except OSError:
                    pass

    def cpu_ns(self):
        """CPU time of every task that ever ran in the jail (ns), or None."""
        for path in self.paths:
            try:
                if (path / "cpuacct.usage").exists():
                    return int((path / "cpuacct.usage").read_text())
                if (path / "cpu.stat").exists():
                    for line in (path / "cpu.stat").read_text().splitlines():
                        if line.startswith("usage_usec "):
                            return int(line.split()[1]) * 1000
            except (OSError, ValueError):
                return None
        return None

    def procs_files(self):
        return [str(p / "cgroup.procs") for p in self.paths]

    @staticmethod
    def remove_stale():
        """Remove empty cgroups left by a grader that was killed (pid not alive)."""
        roots = [CGROUP_ROOT / c for c in ("pids", "memory", "cpuacct")]
        if _v2_root() is not None:
            roots.append(_v2_root())
        for root in roots:
            for path in root.glob("autograder-*"):
                owner = path.name.split("-")[1]
                if owner.isdigit() and not os.path.exists(f"/proc/{owner}"):
                    try:
                        path.rmdir()    # fails, harmlessly, if a process is still in it
                    except OSError:
                        pass

    def kill_all(self):
        for path in self.paths:
            if (path / "cgroup.kill").exists():     # v2, Linux 5.14+
                try:
                    (path / "cgroup.kill").write_text("1")
                except OSError:
                    pass
            # Until the cgroup is empty, for at most a second: a killed worker leaves it
            # once its memory is torn down, typically 1-4 ms later, so it is looked at
            # every millisecond (a close is on the way of every student's result).
            deadline = time.monotonic() + 1.0
            while True:
                try:
                    pids = [int(p) for p in (path / "cgroup.procs").read_text().split()]
                except OSError:
                    break
                if not pids or time.monotonic() > deadline:
                    break
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
                time.sleep(0.001)
            try:
                path.rmdir()
            except OSError:
                pass
        self.paths = []

"""The bubblewrap command line and resource limits for one worker.

What the jail sees: /usr, /lib*, /bin, /etc/ld.so.cache, the Python
installation and the virtual environment, all read-only; the worker script at
/grader/worker.py; an empty private /tmp. No network, no other submission, no
solutions, no gradebook, no output folder, not this package.
"""
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

WORKER = Path(__file__).with_name("worker.py")
CGROUP_PIDS = Path("/sys/fs/cgroup/pids")


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create namespaces here."""


@dataclass(frozen=True)
class Limits:
    memory_mb: int = 1024      # address space per submission
    cpu_seconds: int = 600     # CPU time per worker process (a backstop)
    processes: int = 16        # tasks alive at once in the jail
    file_mb: int = 64          # largest file the jail may write in its /tmp


def bwrap_available():
    """True when bwrap exists and can make the namespaces we need."""
    exe = shutil.which("bwrap")
    if not exe:
        return False
    import subprocess
    try:
        r = subprocess.run([exe, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent",
                            "true"], capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0


def _read_only_roots():
    """Folders the worker's Python needs, each bound read-only at its own path."""
    roots = []
    for p in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.lexists(p):
            roots.append(p)
    for p in {sys.base_prefix, sys.prefix, sys.exec_prefix, sys.base_exec_prefix}:
        rp = os.path.realpath(p)
        if not any(rp == r or rp.startswith(r + "/") for r in ("/usr", "/bin", "/lib")):
            roots.append(rp)
    return sorted(set(roots))


def _masks(roots):
    """Grader code reachable through a bound folder is hidden under a tmpfs."""
    here = Path(__file__).resolve().parents[1]   # the autograder package
    repo = here.parent
    masks = []
    for secret in (here, repo / "solutions", repo / "tests"):
        s = str(secret)
        if any(s.startswith(r.rstrip("/") + "/") for r in roots):
            masks.append(s)
    return masks


def sandbox_command(python, unsafe=False):
    """argv that runs worker.py, jailed unless `unsafe`."""
    if unsafe:
        return [python, "-I", "-B", str(WORKER)]
    roots = _read_only_roots()
    cmd = ["bwrap", "--die-with-parent", "--new-session", "--unshare-all",
           "--unshare-user", "--uid", "65534", "--gid", "65534", "--cap-drop", "ALL",
           "--hostname", "sandbox",
           # /tmp first: a Python or venv under /tmp is then bound on top of it.
           "--tmpfs", "/tmp"]
    for r in roots:
        cmd += ["--ro-bind", r, r]
    for s in ("/etc/ld.so.cache", "/etc/localtime"):
        if os.path.exists(s):
            cmd += ["--ro-bind", s, s]
    for m in _masks(roots):
        cmd += ["--tmpfs", m]
    cmd += ["--proc", "/proc", "--dev", "/dev",
            "--ro-bind", str(WORKER), "/grader/worker.py", "--chdir", "/tmp",
            "--", python, "-I", "-B", "/grader/worker.py"]
    return cmd


def worker_env():
    """A small, fixed environment: one BLAS thread, nothing inherited."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp",
        "LANG": "C.UTF-8",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONHASHSEED": "0",
        "MPLBACKEND": "Agg",
    }


class PidsCgroup:
    """A pids cgroup (v1) for one worker, when we are root and it is writable.

    RLIMIT_NPROC does not bind root, so as root the process cap comes from
    here; as any other user, RLIMIT_NPROC does the job.
    """

    def __init__(self, name, max_pids):
        self.path = None
        if os.geteuid() != 0 or not os.access(CGROUP_PIDS, os.W_OK):
            return
        path = CGROUP_PIDS / f"autograder-{name}"
        try:
            path.mkdir(exist_ok=True)
            (path / "pids.max").write_text(str(max_pids))
            self.path = path
        except OSError:
            self.path = None

    @staticmethod
    def remove_stale():
        """Remove empty cgroups left by a grader that was killed (pid not alive)."""
        if not os.access(CGROUP_PIDS, os.W_OK):
            return
        for path in CGROUP_PIDS.glob("autograder-*"):
            owner = path.name.split("-")[1]
            if owner.isdigit() and not os.path.exists(f"/proc/{owner}"):
                try:
                    path.rmdir()      # fails, harmlessly, if a process is still in it
                except OSError:
                    pass

    def kill_all(self):
        if self.path is None:
            return
        import signal
        import time
        for _ in range(50):
            try:
                pids = [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
            except OSError:
                break
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.02)
        try:
            self.path.rmdir()
        except OSError:
            pass
        self.path = None


def limit_prefix(limits, cgroup):
    """argv prefix that joins the cgroup and sets rlimits, then execs the rest.

    Done with `sh` and util-linux `prlimit` rather than a preexec_fn, which is
    unsafe in a process that grades with several threads.
    """
    mem = limits.memory_mb * 1024 * 1024
    fsize = limits.file_mb * 1024 * 1024
    procs = cgroup.path / "cgroup.procs" if cgroup.path is not None else "/dev/null"
    cmd = ["sh", "-c", 'echo $$ > "$0" 2>/dev/null; exec "$@"', str(procs),
           "prlimit", f"--as={mem}", f"--cpu={limits.cpu_seconds}:{limits.cpu_seconds + 5}",
           f"--fsize={fsize}", "--core=0"]
    if os.geteuid() != 0:
        cmd.append(f"--nproc={limits.processes}")
    return cmd + ["--"]

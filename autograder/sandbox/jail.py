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
CGROUP_ROOT = Path("/sys/fs/cgroup")


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
    # A non-editable install would put another copy in site-packages.
    copies = [Path(p) / "autograder" for p in sys.path if p and (Path(p) / "autograder").is_dir()]
    for secret in [here, repo / "solutions", repo / "tests", *copies]:
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


class JailCgroups:
    """pids and memory cgroups (v1) for one worker, when we are root and may.

    RLIMIT_NPROC does not bind root and RLIMIT_AS is per process, so as root
    the caps on the whole jail (process count, total memory) come from here;
    as any other user, RLIMIT_NPROC and RLIMIT_AS do the job.
    """

    def __init__(self, name, limits):
        self.paths = []
        if os.geteuid() != 0:
            return
        # Slack for bwrap itself; the worker's own cap is RLIMIT_AS.
        memory = (limits.memory_mb + 256) * 1024 * 1024
        for controller, knob, value in (("pids", "pids.max", limits.processes),
                                        ("memory", "memory.limit_in_bytes", memory)):
            root = CGROUP_ROOT / controller
            if not os.access(root, os.W_OK):
                continue
            path = root / f"autograder-{name}"
            try:
                path.mkdir(exist_ok=True)
                (path / knob).write_text(str(value))
                self.paths.append(path)
            except OSError:
                pass

    def procs_files(self):
        return [str(p / "cgroup.procs") for p in self.paths]

    @staticmethod
    def remove_stale():
        """Remove empty cgroups left by a grader that was killed (pid not alive)."""
        for controller in ("pids", "memory"):
            for path in (CGROUP_ROOT / controller).glob("autograder-*"):
                owner = path.name.split("-")[1]
                if owner.isdigit() and not os.path.exists(f"/proc/{owner}"):
                    try:
                        path.rmdir()    # fails, harmlessly, if a process is still in it
                    except OSError:
                        pass

    def kill_all(self):
        import signal
        import time
        for path in self.paths:
            for _ in range(50):
                try:
                    pids = [int(p) for p in (path / "cgroup.procs").read_text().split()]
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
                path.rmdir()
            except OSError:
                pass
        self.paths = []


def limit_prefix(limits, cgroup):
    """argv prefix that joins the cgroup and sets rlimits, then execs the rest.

    Done with `sh` and util-linux `prlimit` rather than a preexec_fn, which is
    unsafe in a process that grades with several threads.
    """
    mem = limits.memory_mb * 1024 * 1024
    fsize = limits.file_mb * 1024 * 1024
    join = "".join(f'echo $$ > "{p}" 2>/dev/null; ' for p in cgroup.procs_files())
    cmd = ["sh", "-c", join + 'exec "$@"', "sh",
           "prlimit", f"--as={mem}", f"--cpu={limits.cpu_seconds}:{limits.cpu_seconds + 5}",
           f"--fsize={fsize}", "--core=0"]
    if os.geteuid() != 0:
        cmd.append(f"--nproc={limits.processes}")
    return cmd + ["--"]

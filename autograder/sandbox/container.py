"""Container mode: where namespaces are refused, a separate uid per worker.

For Docker/Gradescope-style hosts whose seccomp profile refuses the user
namespaces bubblewrap needs; the container itself is the outer sandbox. The
grader must run as root. What holds, per worker:
- it runs as its own unprivileged uid (BASE_UID + slot, one slot per
  concurrent worker, so no two live jails share a uid; a slot is leased host-wide
  with a lock in LEASES, so two graders on one host, whose sweeps kill every
  process of their uids, never share one either), with no supplementary
  groups, no capabilities, no_new_privs, a scrubbed environment;
- the seccomp allow-list (seccomp.py) keeps it one process with no socket of
  any family (so no network, whatever the container's), no IPC and no new
  inode; RLIMIT_NPROC=1 on that uid is a second wall; RLIMIT_AS, CPU, FSIZE,
  NOFILE as in bubblewrap mode;
- its cwd/HOME/TMPDIR is a fresh folder owned by that uid (mode 0700), a tmpfs
  of the /tmp size and HOME_INODES inodes when the container lets root mount
  one, else a plain folder;
- before any student code runs, `prepare()` removes access for "others" from
  every grader path it is given (chmod o-rwx) and then checks, as a student
  uid, that none of them can be read or listed; it refuses (one line) if so;
- when the worker ends, every process of its uid is killed and the files it
  left in its folder and in /tmp, /var/tmp, /dev/shm are removed; when the
  batch ends (`close()`), every folder of the machine those uids could write
  to and their IPC objects are swept too (sweep.py).
What does not hold: the rest of the container's filesystem is readable as it
is to any user; existing world-writable files can be written (each capped by
RLIMIT_FSIZE).
"""
import fcntl
import os
import shutil
import signal
import sys
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from ..model import SandboxMode
from . import seccomp, sweep
from .bwrap import SandboxUnavailable
from .fontlist import FontLists
from .jail import (HOME_DIRS, MPL_DIR, WORKER, JailCgroups, Limits, cgroup_kind, limit_argv,
                   memory_budget, worker_env)
from .launch import Launch

BASE_UID = 61000
MAX_SLOTS = 4096
# Root's own folder of uid leases, one lock file per student uid: the lock dies with its
# grader, so a crashed grader never keeps a uid.
LEASES = Path("/run" if os.path.isdir("/run") else tempfile.gettempdir()) / "autograder-uids"
SHARED_TMP = ("/tmp", "/var/tmp", "/dev/shm")
HOME_INODES = 1024      # the filter refuses new inodes: a second wall on the home tmpfs
_MS_NOSUID, _MS_NODEV = 2, 4
_MNT_DETACH = 2

# Run as a student uid: protected paths (before "--") must allow nothing,
# unlisted folders (after it) no listing.
_CHECK = r"""
import os, sys
i = sys.argv.index("--")
bad = [p for p in sys.argv[1:i] if os.access(p, os.R_OK) or os.access(p, os.X_OK)]
bad += [p for p in sys.argv[i + 1:] if os.access(p, os.R_OK)]
print("\n".join(bad))
"""


class ContainerMode:
    name = SandboxMode.CONTAINER

    def __init__(self, base_uid=BASE_UID, writable=None):
        """`writable`: the folders a student uid could write to, when known in advance
        (an image's list, see sweep.main); None: found by a walk beside the batch."""
        if os.geteuid() != 0:
            raise SandboxUnavailable(
                "--sandbox container needs the grader to run as root (student code then runs "
                "as separate unprivileged uids)")
        for tool in ("setpriv", "prlimit"):
            if shutil.which(tool) is None:
                raise SandboxUnavailable(f"--sandbox container needs util-linux `{tool}` "
                                         "(apt-get install util-linux)")
        self.base_uid = base_uid
        self.has_filter = seccomp.known()
        self.run_dir = None     # made on first use, so a usage error leaves nothing behind
        self._walk, self._skip, self._writable = None, sweep.SKIP, writable
        self.tmpfs = None
        self._free, self._leases, self._lock = [], {}, threading.Lock()
        self.prepared = []
        self.fonts = FontLists()

    def _setup(self):
        with self._lock:
            if self.run_dir is not None:
                return
            run_dir = Path(tempfile.mkdtemp(prefix="autograder-jails-"))
            os.chmod(run_dir, 0o711)                  # others may enter their own home only
            grader = run_dir / "grader"
            grader.mkdir(mode=0o755)
            self.worker = grader / "worker.py"        # the jail's copy, as in bubblewrap mode
            shutil.copyfile(WORKER, self.worker)
            os.chmod(self.worker, 0o644)
            self.run_dir = run_dir
            self.tmpfs = self._can_mount_tmpfs()
            # Where a student uid could write, found beside the batch for the final sweep
            # (students cannot add a folder: the filter refuses mkdir).
            if self._writable is None:
                self._skip = (*sweep.SKIP, str(run_dir))
                self._walk = sweep.start_walk(skip=self._skip)

    # ---------------------------------------------------------------- setup
    def _can_mount_tmpfs(self):
        probe = self.run_dir / "probe"
        probe.mkdir()
        try:
            ok = sweep.c_library().mount(b"tmpfs", str(probe).encode(), b"tmpfs",
                               _MS_NOSUID | _MS_NODEV, b"size=64k,mode=0700") == 0
            if ok:
                sweep.c_library().umount2(str(probe).encode(), _MNT_DETACH)
            return ok
        finally:
            probe.rmdir()

    def prepare(self, python, extra=()):
        """Make the grader's paths unreadable to the student uids, then check it as one.

        `extra`: more paths to protect (submissions, OUT, assignment folders).
        Raises SandboxUnavailable (one line) when a path stays readable or the
        student uid cannot run `python` at all.
        """
        self._setup()
        protect, unlist = grader_paths(extra)
        protect = [p for p in protect if os.path.lexists(p)]
        for p, bits in [(p, 0o007) for p in protect] + [(p, 0o004) for p in unlist]:
            try:
                if not os.path.islink(p):
                    os.chmod(p, os.lstat(p).st_mode & 0o7777 & ~bits)
            except OSError as e:
                raise SandboxUnavailable(f"container mode cannot protect {p}: {e.strerror}")
        slot = self._acquire()
        uid = str(self.base_uid + slot)
        try:
            r = subprocess.run(["setpriv", "--reuid", uid, "--regid", uid, "--clear-groups",
                                "--", python, "-I", "-S", "-c", _CHECK,
                                *map(str, protect), "--", *map(str, unlist)],
                               capture_output=True, text=True, timeout=60,
                               env=worker_env(home="/"), cwd="/")
        finally:
            self._release(slot)
        if r.returncode != 0:
            raise SandboxUnavailable(
                f"container mode: uid {uid} cannot run {python} "
                f"({(r.stderr.strip().splitlines() or ['no message'])[-1]}); install Python "
                "where unprivileged users can read it")
        readable = r.stdout.split()
        if readable:
            raise SandboxUnavailable(
                f"container mode: {readable[0]} is still readable by uid {uid} "
                "(an ACL or a read-only filesystem?); grading would expose it")
        self.prepared = protect

    # ---------------------------------------------------------------- slots
    def _acquire(self):
        """A slot no live jail of this grader uses and no other grader on the host holds.

        A released slot stays leased until close(), whose sweep of its uid must not hit
        another grader's worker."""
        with self._lock:
            if self._free:
                return self._free.pop()
            LEASES.mkdir(mode=0o700, exist_ok=True)
            for slot in range(MAX_SLOTS):
                if slot in self._leases:
                    continue
                fd = os.open(LEASES / str(self.base_uid + slot),
                             os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    os.close(fd)
                    continue
                self._leases[slot] = fd
                return slot
            raise SandboxUnavailable(f"container mode: all {MAX_SLOTS} student uids from "
                                     f"{self.base_uid} are held by other graders on this host")

    def _release(self, slot):
        with self._lock:
            self._free.append(slot)
            self._free.sort(reverse=True)

    def uids(self):
        """The student uids this grader holds (its leases), lowest first."""
        with self._lock:
            return sorted(self.base_uid + slot for slot in self._leases)

    # ---------------------------------------------------------------- jail
    def launch(self, python, limits):
        self._setup()
        slot = self._acquire()
        uid = self.base_uid + slot
        home = self.run_dir / f"home-{slot}"
        cleanups = [lambda: self._release(slot)]
        try:
            sweep_uid(uid)          # nothing of an earlier tenant survives
            self._make_home(home, uid, limits, fonts=self.fonts.get(python))
            cleanups.append(lambda: self._remove_home(home, uid))
            cgroup = JailCgroups(f"{os.getpid()}-c{slot}-{time.monotonic_ns()}", limits)
            cleanups.append(lambda: sweep_uid(uid))
            cleanups.append(cgroup.kill_all)
        except BaseException:
            for c in reversed(cleanups):
                c()
            raise
        argv = limit_argv(limits, cgroup, nproc=1) + [
            "setpriv", "--reuid", str(uid), "--regid", str(uid), "--clear-groups",
            "--no-new-privs", "--"]
        argv += seccomp.boot_argv(python, self.worker)
        return Launch(argv, worker_env(home=str(home)), cwd=str(home), cleanups=cleanups,
                      cgroup=cgroup)

    def _make_home(self, home, uid, limits, fonts=None):
        """The worker's private folder, owned by `uid`, with its HOME_DIRS and, read-only
        (root's), matplotlib's font list (fontlist.py)."""
        if os.path.lexists(home):
            self._remove_home(home, uid)
        home.mkdir(mode=0o700)
        mounted = False
        if self.tmpfs:
            _, tmp_mb = memory_budget(limits)
            opts = (f"size={tmp_mb}m,nr_inodes={HOME_INODES},mode=0700,"
                    f"uid={uid},gid={uid}").encode()
            mounted = sweep.c_library().mount(b"tmpfs", str(home).encode(), b"tmpfs",
                                    _MS_NOSUID | _MS_NODEV, opts) == 0
        if not mounted:
            os.chown(home, uid, uid)
        for d in HOME_DIRS:
            (home / d).mkdir(mode=0o700)
            os.chown(home / d, uid, uid)
        if fonts is not None:
            path = home / MPL_DIR / fonts.name
            path.write_bytes(fonts.data)
            os.chmod(path, 0o444)

    def _remove_home(self, home, uid):
        sweep.c_library().umount2(str(home).encode(), _MNT_DETACH)    # harmless when not mounted
        shutil.rmtree(home, ignore_errors=True)
        for shared in SHARED_TMP:
            try:
                entries = list(os.scandir(shared))
            except OSError:
                continue
            for e in entries:
                try:
                    if e.stat(follow_symlinks=False).st_uid != uid:
                        continue
                    if e.is_dir(follow_symlinks=False):
                        shutil.rmtree(e.path, ignore_errors=True)
                    else:
                        os.unlink(e.path)
                except OSError:
                    pass

    def describe(self, limits=Limits()):
        self._setup()
        as_mb, tmp_mb = memory_budget(limits)
        procs = ("1 process (seccomp + RLIMIT_NPROC on its own uid)" if self.has_filter
                 else "1 process (RLIMIT_NPROC on its own uid)")
        if self.tmpfs:
            mem = (f"{limits.memory_mb} MB memory ({as_mb} MB address space + private "
                   f"tmpfs {tmp_mb} MB)")
        else:
            mem = f"{as_mb} MB address space, private folder on disk (files <= {limits.file_mb} MB)"
        cg = cgroup_kind()
        extra = f"; cgroup {cg} around each jail" if cg else ""
        return (f"sandbox: container (student code as uid {self.base_uid}+slot, grader paths "
                f"chmod o-rwx); per jail: {procs}, {mem}, {limits.cpu_seconds} s CPU, "
                f"no network (seccomp: no sockets){extra}")

    def close(self):
        """Kill what is left of every slot's uid and remove the run folder."""
        if self.run_dir is None:
            return
        slots = sorted(self._leases)
        uids = [self.base_uid + slot for slot in slots]
        for slot, uid in zip(slots, uids):
            sweep_uid(uid)
            self._remove_home(self.run_dir / f"home-{slot}", uid)
        # Every other place those uids could have written, and their IPC objects.
        found = (self._writable if self._writable is not None
                 else sweep.folders(self._walk, skip=self._skip))
        sweep.sweep(uids, [*SHARED_TMP, *found])
        shutil.rmtree(self.run_dir, ignore_errors=True)
        self.run_dir = None
        with self._lock:
            for fd in self._leases.values():
                os.close(fd)       # only now may another grader take (and sweep) these uids
            self._leases.clear()
            self._free.clear()


def _real_uid(pid):
    # /proc/<pid>/status, not the owner of /proc/<pid>: a process that makes
    # itself non-dumpable shows as owned by root there.
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    return None


def sweep_uid(uid, rounds=50):
    """SIGKILL every process whose real uid is `uid` until none is left."""
    for _ in range(rounds):
        found = False
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                if _real_uid(name) != uid:
                    continue
                os.kill(int(name), signal.SIGKILL)
                found = True
            except (OSError, ValueError):
                pass
        if not found:
            return
        time.sleep(0.01)


def _split(path, needed):
    """(protect, unlist) that close `path` to others but the way to the folders in
    `needed`: a folder on that way is only unlisted and its other entries closed."""
    if path.is_symlink():
        return [path], []
    real = path.resolve()
    if real in needed:
        return [], []
    if not real.is_dir() or not any(real in n.parents for n in needed):
        return [real], []
    protect, unlist = [], [real]
    for entry in sorted(real.iterdir()):
        p, u = _split(entry, needed)
        protect += p
        unlist += u
    return protect, unlist


def closing(paths):
    """(protect, unlist) for `paths`: each closed but for the way to the worker's Python."""
    needed = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    protect, unlist = [], []
    for item in paths:
        p, u = _split(Path(item), needed)
        protect += p
        unlist += u
    return sorted(set(protect)), sorted(set(unlist))


def grader_paths(extra=()):
    """(protect, unlist): paths to make unreadable to students, folders to make unlistable.

    The checkout, installed copies of the package and `extra` (submissions,
    OUT, assignment folders, Gradescope's /autograder) are closed, but for the
    way to the Python the worker runs: a folder holding the venv (a checkout
    with its .venv, /autograder with venv/) is only unlisted, and every other
    entry of it closed.
    """
    from .jail import grader_copies
    items = [*grader_copies(), *map(Path, extra)]
    repo = Path(__file__).resolve().parents[2]
    if (repo / "pyproject.toml").exists() and (repo / "autograder" / "sandbox").is_dir():
        items.append(repo)
    return closing(items)

"""Run the grader on the attack batch and watch it from outside.

`run_watched` starts `python -m autograder grade ...` (as root, or dropped to
uid 65534 with tests/e2e/conftest.py's helpers) and polls, every 0.1 s:
- the grader's own peak RSS (VmHWM) and the RSS of the grader's process tree
  outside the jails (the grader, its reader children: everything that is not
  bubblewrap or below it);
- the host's Shmem (tmpfs and memfd pages: RAM a jail could hold outside
  its address space);
- processes whose name (comm) starts with "h7": attack code names itself so,
  and its first and last sighting bound how long that student's code ran.
"""
import hashlib
import os
import stat
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

# The grader runs under an address-space cap so that an attack that makes it
# allocate without bound fails this test instead of the machine. Far above the
# 1.5 GB RSS the test requires.
GRADER_AS_BYTES = 6 << 30


@dataclass
class Watched:
    returncode: int
    stdout: str
    stderr: str
    wall: float
    grader_hwm_kb: int = 0          # the grader process's own peak RSS
    tree_peak_kb: int = 0           # peak summed RSS of the grader's non-jail processes
    shmem_base_kb: int = 0
    shmem_peak_kb: int = 0
    slab_base_kb: int = 0           # kernel objects (inodes, dentries...): tmpfs files
    slab_peak_kb: int = 0           # cost this whatever the tmpfs size
    spans: dict = field(default_factory=dict)   # tag -> [first seen, last seen] (s from start)
    timed_out: bool = False


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def _status_kb(pid, key):
    for line in _read(f"/proc/{pid}/status").decode(errors="replace").splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _children(pid):
    kids = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            kids += [int(c) for c in _read(f"/proc/{pid}/task/{tid}/children").split()]
    except OSError:
        pass
    return kids


def _is_jail(pid):
    exe = _read(f"/proc/{pid}/cmdline").split(b"\0")[0]
    return exe.endswith(b"bwrap")


def grader_tree_rss_kb(root_pid):
    """Summed RSS of root_pid and its descendants, not descending into jails."""
    total, frontier, seen = 0, [root_pid], set()
    while frontier:
        pid = frontier.pop()
        if pid in seen or _is_jail(pid):
            continue
        seen.add(pid)
        total += _status_kb(pid, "VmRSS")
        frontier += _children(pid)
    return total


def meminfo_kb(key):
    for line in _read("/proc/meminfo").decode().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def shmem_kb():
    return meminfo_kb("Shmem")


def tagged_processes(prefix=b"h7"):
    """{pid: comm} of every process whose comm starts with `prefix`."""
    found = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            comm = _read(f"/proc/{d}/comm").strip()
            if comm.startswith(prefix):
                found[int(d)] = comm.decode(errors="replace")
    return found


def run_watched(argv, *, cwd, env, timeout, poll=0.1, tag_prefix=b"h7"):
    """Run `argv` (the grader) and watch it; see the module docstring."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, errors="replace")
    w = Watched(0, "", "", 0.0, shmem_base_kb=shmem_kb())
    w.shmem_peak_kb = w.shmem_base_kb
    w.slab_base_kb = w.slab_peak_kb = meminfo_kb("Slab")
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            hwm = _status_kb(proc.pid, "VmHWM")
            w.grader_hwm_kb = max(w.grader_hwm_kb, hwm)
            w.tree_peak_kb = max(w.tree_peak_kb, grader_tree_rss_kb(proc.pid))
            w.shmem_peak_kb = max(w.shmem_peak_kb, shmem_kb())
            w.slab_peak_kb = max(w.slab_peak_kb, meminfo_kb("Slab"))
            now = time.monotonic() - start
            for comm in set(tagged_processes(tag_prefix).values()):
                span = w.spans.setdefault(comm, [now, now])
                span[1] = now
            stop.wait(poll)

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    try:
        w.stdout, w.stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        w.timed_out = True
        proc.kill()
        w.stdout, w.stderr = proc.communicate()
    stop.set()
    t.join()
    w.returncode = proc.returncode
    w.wall = time.monotonic() - start
    return w


def tree_digest(*roots, skip=()):
    """sha256 over names, types, modes and bytes of every entry under `roots`
    (links not followed, FIFOs and sockets not opened)."""
    h = hashlib.sha256()
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            dirnames[:] = [d for d in dirnames if d != "__pycache__"
                           and os.path.join(dirpath, d) not in skip]
            for n in sorted(filenames) + dirnames:
                p = os.path.join(dirpath, n)
                if p in skip:
                    continue
                st = os.lstat(p)
                h.update(os.fsencode(p) + b"\0" + str(st.st_mode).encode())
                if stat.S_ISLNK(st.st_mode):
                    h.update(os.fsencode(os.readlink(p)))
                elif stat.S_ISREG(st.st_mode):
                    with open(p, "rb") as f:
                        for chunk in iter(lambda: f.read(1 << 20), b""):
                            h.update(chunk)
    return h.hexdigest()


def leftover_processes(marker, tag_prefix=b"h7"):
    """Processes still alive that belong to this batch's jails: named by attack
    code (comm `tag_prefix`...), or whose command line names `marker` (our repo copy)."""
    found = {pid: comm for pid, comm in tagged_processes(tag_prefix).items()}
    m = os.fsencode(str(marker))
    for d in os.listdir("/proc"):
        if d.isdigit() and int(d) != os.getpid():
            if m in _read(f"/proc/{d}/cmdline"):
                found[int(d)] = _read(f"/proc/{d}/cmdline").replace(b"\0", b" ")[:200].decode(
                    errors="replace")
    return found


def files_containing(root, needles):
    """{path: needle} for every file under root whose bytes contain a needle."""
    hits = {}
    for p in Path(root).rglob("*"):
        if p.is_file() and not p.is_symlink():
            data = p.read_bytes()
            for n in needles:
                if n in data:
                    hits[str(p)] = n
    return hits


class Swapper:
    """Swaps a notebook path between a blank notebook and a link to the
    secret while the grader runs (a race on the check-then-open); and nbgrader's side
    files beside it, which the grader copies into OUT: timestamp.txt between a regular
    file and a link to the secret, submission_secret.txt between one and a FIFO."""

    SIDE = {"timestamp.txt": "link", "submission_secret.txt": "fifo"}

    def __init__(self, folder, blank_bytes, target):
        self.folder, self.blank, self.target = Path(folder), blank_bytes, str(target)
        self.stop = threading.Event()
        self.swaps = 0

    def _swap_side(self):
        for name, odd in self.SIDE.items():
            path, tmp = self.folder / name, self.folder / f".swap-{name}"
            try:
                if os.path.lexists(tmp):
                    os.unlink(tmp)
                if odd == "link":
                    os.symlink(self.target, tmp)
                else:
                    os.mkfifo(tmp)
                os.replace(tmp, path)
                time.sleep(0.001)
                tmp.write_bytes(b"2026-12-05 18:00:00.000000 UTC")
                os.replace(tmp, path)
            except OSError:
                pass

    def _loop(self):
        path = self.folder / "softmax.ipynb"
        tmp_l, tmp_r = self.folder / ".swap-link", self.folder / ".swap-real"
        while not self.stop.is_set():
            try:
                if os.path.lexists(tmp_l):
                    os.unlink(tmp_l)
                os.symlink(self.target, tmp_l)
                os.replace(tmp_l, path)
                time.sleep(0.002)
                tmp_r.write_bytes(self.blank)
                os.replace(tmp_r, path)
                self._swap_side()
                self.swaps += 1
                time.sleep(0.002)
            except OSError:
                time.sleep(0.01)

    def __enter__(self):
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        path = self.folder / "softmax.ipynb"
        for p in (self.folder / ".swap-link", self.folder / ".swap-real",
                  *(self.folder / n for n in self.SIDE),
                  *(self.folder / f".swap-{n}" for n in self.SIDE)):
            if os.path.lexists(p):
                os.unlink(p)
        if os.path.lexists(path):
            os.unlink(path)
        path.write_bytes(self.blank)

"""A running worker and the request/reply loop with deadlines.

The grader never blocks on the student: every request has a deadline, and a
worker that misses it, dies, or answers with garbage is killed (its whole
process group and cgroup) and reported as a `WorkerDied` with the reason.
"""
import fcntl
import os
import selectors
import signal
import subprocess
import sys
import time

from ..model import Flag
from ..untrusted import valid_tree
from .jail import Limits


NOTES_REDIRECTED = "redirected or closed the grader's notes channel"


class WorkerDied(Exception):
    """The worker is gone; `reason` is the flag it raises (timeout, memory, crash,
    output_truncated)."""

    def __init__(self, reason: Flag, detail: str = ""):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class WorkerProcess:
    """One jailed worker. Use `request(msg, timeout)`; always `close()`."""

    def __init__(self, limits=Limits(), *, sandbox, python=None):
        """`sandbox`: the mode that jails it (`modes.select(...)`, or `modes.UNSAFE`: none),
        always given by the caller (a JailSettings' `mode`): no mode is implied."""
        self.limits = limits
        python = python or sys.executable
        self.launch = sandbox.launch(python, limits)
        self.cgroup = self.launch.cgroup
        try:
            self.proc = subprocess.Popen(
                self.launch.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, env=self.launch.env, cwd=self.launch.cwd,
                pass_fds=self.launch.pass_fds, start_new_session=True, close_fds=True,
            )
        except BaseException:
            self.launch.started()
            self.launch.close()
            raise
        self.launch.started()
        self.output_bytes = 0
        os.set_blocking(self.proc.stderr.fileno(), False)
        self._partial, self._kept = b"", []
        self._notes_holder = None       # (pid, fd, pipe link): see watch_notes

    def _jail_pids(self):
        """Every process of the jail now: the launcher and all its descendants.

        Walked afresh at each reading (not cached), so a process forked by
        student code after the first reading is counted too.
        """
        pids, seen, frontier = [], set(), [self.proc.pid]
        while frontier:
            pid = frontier.pop()
            if pid in seen:
                continue
            seen.add(pid)
            pids.append(pid)
            try:
                for tid in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{tid}/children") as f:
                        frontier += [int(c) for c in f.read().split()]
            except (OSError, ValueError):
                pass
        return pids

    def cpu_seconds(self):
        """CPU time used so far by everything in the jail, from the kernel.

        Preferred: the jail's cgroup CPU accounting, when the jail has one
        (`self.cgroup.cpu_ns()`), which sees every task that ever ran in it.
        Otherwise, for each process of the jail, its process CPU clock (all
        its threads, including threads that have exited, in ns) plus the CPU
        of its children it has reaped (cutime + cstime). CPU time, so a busy
        machine, which stretches wall time, does not change it. None where
        the kernel does not tell.
        """
        cgroup_ns = getattr(self.cgroup, "cpu_ns", None)
        if cgroup_ns is not None:
            ns = cgroup_ns()
            if ns is not None:
                return ns / 1e9
        return jail_cpu_seconds(self._jail_pids())

    def notes(self):
        """Suspicious acts the worker reported on its notes channel (stderr).

        Everything written is read (code that floods the channel cannot push a
        note past a cap), but only SUSPICIOUS lines are kept, at most 20. A
        notes descriptor that no longer is the grader's pipe is itself a note.
        """
        try:
            while True:
                chunk = os.read(self.proc.stderr.fileno(), 65536)
                if not chunk:
                    break
                lines = (self._partial + chunk).split(b"\n")
                self._partial = lines.pop()[-4096:]
                for ln in lines:
                    if ln.startswith(b"SUSPICIOUS ") and len(self._kept) < 20:
                        what = ln[len(b"SUSPICIOUS "):].decode("utf-8", "replace")
                        if what not in self._kept:
                            self._kept.append(what)
        except (BlockingIOError, OSError, ValueError):
            pass
        if not self.notes_intact() and len(self._kept) < 20 \
                and NOTES_REDIRECTED not in self._kept:
            self._kept.append(NOTES_REDIRECTED)
        return list(self._kept)

    def watch_notes(self, fd):
        """Remember which process holds the notes pipe as descriptor `fd` (told by the
        worker before any student code ran), to check later that it still does."""
        if not isinstance(fd, int):
            return
        link = f"pipe:[{os.fstat(self.proc.stderr.fileno()).st_ino}]"
        for pid in self._jail_pids():
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == link:
                    self._notes_holder = (pid, fd, link)
                    return
            except OSError:
                continue

    def notes_intact(self):
        """False when the worker's notes descriptor was closed or pointed elsewhere
        (unknowable, and so True, where /proc does not show it)."""
        if self._notes_holder is None:
            return True
        pid, fd, link = self._notes_holder
        if not os.path.exists(f"/proc/{pid}"):
            return True         # the worker is gone: nothing more it can hide
        try:
            return os.readlink(f"/proc/{pid}/fd/{fd}") == link
        except FileNotFoundError:
            return not os.path.exists(f"/proc/{pid}/fd")
        except OSError:
            return True

    def _refuse(self, why):
        """The worker broke the reply protocol: kill it, blame the call."""
        self.kill()
        return WorkerDied(Flag.CRASH, f"the worker's reply channel was misused ({why})")

    def request(self, msg, timeout):
        """Send one message, wait at most `timeout` s for its reply.

        The reply must be exactly one frame echoing this request's id, within
        the size caps (see worker.FrameReader); bytes before it (left from an
        earlier request) or after it, a wrong id, magic or size, or an
        unreadable body kill the worker and raise WorkerDied(Flag.CRASH). The
        grader never holds more than the caps for a reply.
        """
        # The wire format is the worker's own (imported here, not above: it imports
        # NumPy, which starting a worker does not need; see headstart.py).
        from . import worker as wire
        msg_id = int.from_bytes(os.urandom(8), "big")
        out = memoryview(wire.pack(msg, msg_id))
        deadline = time.monotonic() + timeout
        wfd, rfd = self.proc.stdin.fileno(), self.proc.stdout.fileno()
        os.set_blocking(wfd, False)
        os.set_blocking(rfd, False)
        if len(out) > 65536 and not getattr(self, "_big_pipe", False):
            self._big_pipe = _grow_pipe(wfd)
        if self._pending(rfd):
            raise self._refuse("bytes written outside any request")
        reader = wire.FrameReader(msg_id)
        sel = selectors.DefaultSelector()
        sel.register(rfd, selectors.EVENT_READ)
        if out:
            sel.register(wfd, selectors.EVENT_WRITE)
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    self.kill()
                    raise WorkerDied(Flag.TIMEOUT, f"no answer within {timeout:g} s")
                for key, _ in sel.select(min(left, 1.0)):
                    if key.fd == wfd:
                        try:
                            n = os.write(wfd, out)
                        except BlockingIOError:
                            continue
                        except BrokenPipeError:
                            raise self._died() from None
                        out = out[n:]
                        if not out:
                            sel.unregister(wfd)
                        continue
                    try:
                        chunk = os.read(rfd, reader.want())
                    except BlockingIOError:
                        continue
                    if not chunk:
                        raise self._died()
                    try:
                        reader.feed(chunk)
                        if not reader.done:
                            continue
                        if out:
                            raise wire.BadFrame("a reply before the whole request was read")
                        reply = reader.message()
                    except wire.BadFrame as e:
                        raise self._refuse(str(e)) from None
                    if not _envelope_ok(reply):
                        raise self._refuse("a reply the harness does not send")
                    if self._pending(rfd):
                        raise self._refuse("bytes after the reply")
                    self.output_bytes = reply.get("output_bytes", 0)
                    # A door for student text (untrusted.py): exception messages, warnings
                    # and type names may hold code points UTF-8 cannot encode.
                    return valid_tree(reply)
        finally:
            sel.close()

    @staticmethod
    def _pending(fd):
        """True when the reply pipe holds a byte nobody asked for (consumes it)."""
        try:
            return bool(os.read(fd, 1))
        except BlockingIOError:
            return False
        except OSError:
            return False

    def _died(self):
        """Why the worker is gone, from how it ended."""
        try:
            rc = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            rc = None
        self.kill()
        if rc is not None and rc < 0:
            sig = -rc
            if sig == signal.SIGKILL:
                return WorkerDied(Flag.MEMORY, "killed (out of memory or a limit)")
            if sig == signal.SIGXCPU:
                return WorkerDied(Flag.TIMEOUT, "CPU time limit exceeded")
            if sig == signal.SIGXFSZ:
                return WorkerDied(Flag.OUTPUT_TRUNCATED, "wrote a file over the size limit")
            return WorkerDied(Flag.CRASH, f"killed by signal {signal.Signals(sig).name}")
        if rc is not None and rc > 128:   # bwrap reports the child's signal as 128+n
            try:
                name = signal.Signals(rc - 128).name
            except ValueError:
                name = f"signal {rc - 128}"
            if rc - 128 == signal.SIGKILL:
                return WorkerDied(Flag.MEMORY, "killed (out of memory or a limit)")
            if rc - 128 == signal.SIGXCPU:
                return WorkerDied(Flag.TIMEOUT, "CPU time limit exceeded")
            return WorkerDied(Flag.CRASH, f"killed by {name}")
        return WorkerDied(Flag.CRASH, f"the Python process exited (status {rc})")

    def kill(self):
        """Kill the jail and everything in it, and return once it is gone.

        Every process of the jail is signalled at once (bwrap and the worker), not
        only the launcher: left to bwrap's parent-death chain, the worker would die a
        moment later, possibly after the grader has exited.
        """
        pids = self._jail_pids() if self.proc.poll() is None else []
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self.launch.close()     # cgroup, the student's uid and private folder (modes.py)
        _wait_gone(pids[1:])

    def close(self):
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except OSError:
                pass
        self.kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _envelope_ok(reply):
    """The fields every harness reply carries, of the types the harness sends."""
    if not isinstance(reply, dict):
        return False
    out, seen = reply.get("output_bytes", 0), reply.get("suspicious", [])
    return (type(out) is int and out >= 0 and isinstance(seen, list) and len(seen) <= 20
            and all(isinstance(x, str) for x in seen))


def _grow_pipe(fd, size=1 << 20):
    """Make the request pipe hold `size` bytes (at most the system's
    pipe-max-size), so a timed input of ~1 MB reaches the worker in one read
    rather than 16 wake-ups counted in its time. True when done."""
    try:
        with open("/proc/sys/fs/pipe-max-size") as f:
            size = min(size, int(f.read()))
        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), size)
        return True
    except (OSError, ValueError):
        return False


def jail_cpu_seconds(pids):
    """CPU seconds of the processes `pids` and of the children they reaped.

    The process CPU clock (CPUCLOCK_SCHED of the whole thread group, which
    keeps the time of threads that have exited) is read with
    clock_gettime(MAKE_PROCESS_CPUCLOCK(pid)) in ns; reaped children come
    from /proc/<pid>/stat's cutime + cstime (clock ticks). None when a
    process cannot be read at all (no /proc, or the first one is gone).
    """
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for i, pid in enumerate(pids):
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            # fields[0] is field 3 (state): cutime, cstime are fields 16, 17.
            reaped = (int(fields[13]) + int(fields[14])) / tick
            own = time.clock_gettime(((~pid) << 3) | 2)
        except (OSError, ValueError, IndexError):
            if i == 0:
                return None
            continue        # exited between the walk and the reading
        total += own + reaped
    return total


def _wait_gone(pids, seconds=5.0):
    """Until each pid is gone or a zombie (its memory is freed)."""
    deadline = time.monotonic() + seconds
    for pid in pids:
        while time.monotonic() < deadline:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                break
            if state in ("Z", "X"):
                break
            time.sleep(0.005)

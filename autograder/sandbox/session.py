"""A running worker and the request/reply loop with deadlines.

The grader never blocks on the student: every request has a deadline, and a
worker that misses it, dies, or answers with garbage is killed (its whole
process group and cgroup) and reported as a `WorkerDied` with the reason.
"""
import itertools
import json
import os
import selectors
import signal
import struct
import subprocess
import sys
import time

from . import worker as wire
from .jail import Limits, JailCgroups, limit_prefix, sandbox_command, worker_env

_ids = itertools.count()


class WorkerDied(Exception):
    """The worker is gone; `reason` is a grades.csv flag (timeout, memory, crash, output_truncated)."""

    def __init__(self, reason, detail=""):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class WorkerProcess:
    """One jailed worker. Use `request(msg, timeout)`; always `close()`."""

    def __init__(self, limits=Limits(), unsafe=False, python=None):
        self.limits = limits
        python = python or sys.executable
        self.cgroup = JailCgroups(f"{os.getpid()}-{next(_ids)}", limits)
        self.proc = subprocess.Popen(
            limit_prefix(limits, self.cgroup) + sandbox_command(python, unsafe=unsafe),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=worker_env(), start_new_session=True, close_fds=True,
        )
        self.output_bytes = 0
        os.set_blocking(self.proc.stderr.fileno(), False)
        self._notes = b""
        self._pids = None       # the jail's host pids, found on first use

    def _worker_pids(self):
        """The jailed Python's host pid(s): bwrap forks, sh and prlimit exec."""
        if self._pids:
            return self._pids
        pids, frontier = [], [self.proc.pid]
        while frontier:
            pid = frontier.pop()
            pids.append(pid)
            try:
                for tid in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{tid}/children") as f:
                        frontier += [int(c) for c in f.read().split()]
            except OSError:
                pass
        self._pids = pids
        return pids

    def cpu_seconds(self):
        """CPU time used so far by the jail's processes, from the kernel.

        Read from /proc/<pid>/task/*/schedstat (nanoseconds on a CPU), so a
        busy machine, which stretches wall time, does not change it. None
        where /proc does not tell.
        """
        total = 0
        try:
            for pid in self._worker_pids():
                for tid in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                        total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        return total / 1e9

    def notes(self):
        """Suspicious acts the worker reported on its notes channel (stderr)."""
        try:
            while len(self._notes) < 64 * 1024:
                chunk = os.read(self.proc.stderr.fileno(), 65536)
                if not chunk:
                    break
                self._notes += chunk
        except (BlockingIOError, OSError, ValueError):
            pass
        lines = self._notes.decode("utf-8", "replace").splitlines()
        return [ln[len("SUSPICIOUS "):] for ln in lines if ln.startswith("SUSPICIOUS ")][:20]

    def request(self, msg, timeout):
        """Send one message, wait at most `timeout` s for the reply."""
        data = json.dumps(wire.encode(msg)).encode("utf-8")
        out = memoryview(struct.pack(">I", len(data)) + data)
        deadline = time.monotonic() + timeout
        buf = bytearray()
        need = None
        sel = selectors.DefaultSelector()
        wfd, rfd = self.proc.stdin.fileno(), self.proc.stdout.fileno()
        os.set_blocking(wfd, False)
        sel.register(rfd, selectors.EVENT_READ)
        if out:
            sel.register(wfd, selectors.EVENT_WRITE)
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    self.kill()
                    raise WorkerDied("timeout", f"no answer within {timeout:g} s")
                for key, _ in sel.select(min(left, 1.0)):
                    if key.fd == wfd:
                        try:
                            n = os.write(wfd, out)
                        except BrokenPipeError:
                            raise self._died() from None
                        out = out[n:]
                        if not out:
                            sel.unregister(wfd)
                    else:
                        chunk = os.read(rfd, 1 << 20)
                        if not chunk:
                            raise self._died()
                        buf += chunk
                        if need is None and len(buf) >= 4:
                            (need,) = struct.unpack(">I", buf[:4])
                            if need > wire.MAX_MESSAGE:
                                self.kill()
                                raise WorkerDied("output_truncated", "reply larger than 64 MB")
                        if need is not None and len(buf) >= 4 + need:
                            try:
                                reply = wire.decode(json.loads(bytes(buf[4:4 + need])))
                            except (ValueError, TypeError, KeyError) as e:
                                self.kill()
                                raise WorkerDied("crash", f"unreadable reply ({e})") from None
                            if not isinstance(reply, dict):
                                self.kill()
                                raise WorkerDied("crash", "unreadable reply")
                            self.output_bytes = int(reply.get("output_bytes", 0) or 0)
                            return reply
        finally:
            sel.close()

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
                return WorkerDied("memory", "killed (out of memory or a limit)")
            if sig == signal.SIGXCPU:
                return WorkerDied("timeout", "CPU time limit exceeded")
            if sig == signal.SIGXFSZ:
                return WorkerDied("output_truncated", "wrote a file over the size limit")
            return WorkerDied("crash", f"killed by signal {signal.Signals(sig).name}")
        if rc is not None and rc > 128:   # bwrap reports the child's signal as 128+n
            try:
                name = signal.Signals(rc - 128).name
            except ValueError:
                name = f"signal {rc - 128}"
            if rc - 128 == signal.SIGKILL:
                return WorkerDied("memory", "killed (out of memory or a limit)")
            if rc - 128 == signal.SIGXCPU:
                return WorkerDied("timeout", "CPU time limit exceeded")
            return WorkerDied("crash", f"killed by {name}")
        return WorkerDied("crash", f"the Python process exited (status {rc})")

    def kill(self):
        """Kill the jail and everything in it."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self.cgroup.kill_all()

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

"""The reader child's main loop (started by `reader.ReaderProcess`).

Run as `python -c ... PACKAGE_PARENT MEMORY_MB CPU_SECONDS MAX_REPLY_BYTES`. It caps its own
address space first, then answers frames on stdin/stdout until stdin closes:
request = u32 header length, JSON header, u32 data length, notebook bytes (a header
length of 0, END, instead: no more notebooks, as when stdin closes);
reply = u32 length, JSON (the code); when the request asks for the outline and the
code was read, a second reply frame {"outline": ... or None} follows, made from the
same parsed cells once the first is sent. Before each notebook, and again before its
outline, its CPU soft limit is set to what it has used plus CPU_SECONDS, so a notebook
that takes longer ends the child with SIGXCPU (the parent reports it and starts another).
"""
import json
import os
import resource
import select
import struct
import sys
import time

FRAME = struct.Struct(">I")     # the length before each header, notebook and reply
END = FRAME.pack(0)             # in place of a request: the reader is done


def read_exact(fd, n, deadline=None):
    """Exactly `n` bytes from `fd`; EOFError if it ends first, TimeoutError once
    time.monotonic() passes `deadline` (None: wait as long as it takes). Both ends of
    the reader channel read with it (`reader.ReaderProcess` with a deadline)."""
    buf = bytearray()
    while len(buf) < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError
        chunk = os.read(fd, min(n - len(buf), 1 << 20))
        if not chunk:
            raise EOFError
        buf += chunk
    return bytes(buf)


def _write(fd, obj):
    data = json.dumps(obj).encode()
    _send(fd, data)


def _send(fd, data):
    """One reply frame: its length, then `data` (written from a view: no copies)."""
    for part in (FRAME.pack(len(data)), data):
        view = memoryview(part)
        while view:
            view = view[os.write(fd, view):]


def _outline_frame(fd, reply, cap):
    """Send the outline frame; {"outline": None} in its place when it would be over `cap`
    bytes (the parent's limit) or over this child's memory."""
    try:
        data = json.dumps(reply).encode()
    except MemoryError:
        data = b""
    if 0 < len(data) <= cap:
        _send(fd, data)
        return
    del data
    _write(fd, {"outline": None, "rss_kb": reply.get("rss_kb", 0)})


def _cpu_used():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _limit(which, soft, hard):
    """setrlimit where the system has it (macOS has no RLIMIT_AS); the parent's wall
    deadline still bounds the child where it does not."""
    try:
        resource.setrlimit(which, (soft, hard))
    except (ValueError, OSError):
        pass


def _rss_kb():
    """Resident memory now (ru_maxrss would also count the parent's, copied at fork)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    except (OSError, ValueError, IndexError):
        return 0


def main():
    memory_mb, cpu_seconds, max_reply = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    _limit(resource.RLIMIT_CORE, 0, 0)
    _limit(resource.RLIMIT_AS, memory_mb << 20, memory_mb << 20)
    fd_in, fd_out = os.dup(0), os.dup(1)
    # Nothing the libraries print may reach the reply channel.
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    sys.stdout = sys.stderr

    from autograder.submissions.nbparse import replies
    _write(fd_out, {"ready": True})
    while True:
        try:
            (n,) = FRAME.unpack(read_exact(fd_in, FRAME.size))
            if n == 0:
                raise EOFError      # END: no more notebooks
            request = json.loads(read_exact(fd_in, n))
            (n,) = FRAME.unpack(read_exact(fd_in, FRAME.size))
            data = read_exact(fd_in, n)
        except EOFError:
            # Nothing is left to send (replies are written unbuffered): skip the
            # interpreter's teardown, which the grader waits for when it closes us.
            os._exit(0)
        _limit(resource.RLIMIT_CPU, int(_cpu_used()) + cpu_seconds + 1, resource.RLIM_INFINITY)
        frames = replies(data, request)
        try:
            reply = next(frames)
        except MemoryError:
            reply = {"ok": False, "problem": "the notebook could not be read: it needs more "
                                             f"than {memory_mb} MB of memory to parse"}
        except RecursionError:
            reply = {"ok": False, "problem": "the notebook could not be read: "
                                             "it is nested too deeply"}
        del data
        reply["rss_kb"] = _rss_kb()
        try:
            _write(fd_out, reply)
        except MemoryError:
            _write(fd_out, {"ok": False, "problem": "the notebook could not be read: "
                                                    "its code is too large"})
        if request.get("outline") and reply.get("ok"):
            # A frame of its own, after the code's, with a CPU budget of its own: however
            # the outline fares (too slow, too large), the code reply is already sent.
            reply = None
            _limit(resource.RLIMIT_CPU, int(_cpu_used()) + cpu_seconds + 1,
                   resource.RLIM_INFINITY)
            try:
                shown = next(frames)
            except (StopIteration, MemoryError, RecursionError):
                shown = {"outline": None}
            shown["rss_kb"] = _rss_kb()
            _outline_frame(fd_out, shown, max_reply)
        frames.close()

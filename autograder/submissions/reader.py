"""Open a submitted notebook as hostile input, and parse it in a bounded child.

What this module guarantees, for a notebook at SUBMISSIONS/<folder>/.../<file>:

- No symbolic link is followed below SUBMISSIONS. Each path component is
  opened relative to its parent's file descriptor with O_NOFOLLOW (folders
  with O_DIRECTORY too), so a link swapped in while we read is refused
  as well. A refused link is never opened: not one byte of its target is read.
- Only a regular file is read (O_NONBLOCK, so opening a FIFO cannot block;
  fstat then refuses it), and at most MAX_BYTES: a larger file is refused
  from its size, before any byte is read.
- Everything done with the bytes (JSON, nbgrader metadata and checksums,
  IPython's cell transform, the definitions analysis) happens in a child
  process with an address-space cap, a CPU budget per notebook and a wall
  clock deadline; one child per grading thread is reused across notebooks
  and replaced when it dies, overruns or grows.

A refusal is a `Refused(flag, problem, marker)`: the flag and one line for the
student's row, and a marker that stands in for the file's hash in the cache.
"""
import errno
import hashlib
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

from autograder.model import Flag
from autograder.untrusted import valid_tree
from .reader_child import END as _END, FRAME as _FRAME, read_exact

MAX_BYTES = 20 * 1024 * 1024        # honest notebooks with plots are a few MB
CHILD_MEMORY_MB = 512               # address space of the reader child
CHILD_CPU_SECONDS = 10              # CPU per notebook in the reader child
CHILD_WALL_SECONDS = 60             # backstop when the machine is very loaded
CHILD_START_SECONDS = 60            # for the child to start and say it is ready
CHILD_MAX_RSS_KB = 200 * 1024       # replace the child once it holds this much
MAX_REPLY_BYTES = 2 * MAX_BYTES + (1 << 20)     # a reply over this is the child's failure


class Refused(Exception):
    """The submission cannot be read: `flag` and `problem` go in the student's row."""

    def __init__(self, flag, problem, marker):
        super().__init__(problem)
        self.flag, self.problem, self.marker = flag, problem, marker


def megabytes(n):
    return f"{n / (1024 * 1024):.1f} MB"


def describe_mode(mode):
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISLNK, "a symbolic link")):
        if test(mode):
            return name
    return "not a regular file"


def _refusal(err, dir_fd, name, what):
    """Refused for an OSError raised while opening `name` in `dir_fd`."""
    if err.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
        try:
            is_link = stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
        except OSError:
            is_link = err.errno == errno.ELOOP
        if is_link:
            return Refused(Flag.SYMLINK, symlink_problem(what), "refused:symlink")
        return Refused(Flag.INVALID_NOTEBOOK, f"{what} is not a folder", "refused:notdir")
    if err.errno in (errno.EACCES, errno.EPERM):
        return Refused(Flag.INVALID_NOTEBOOK, f"{what} cannot be read (permission denied); "
                       "ask for it to be submitted again", "refused:permission")
    if err.errno == errno.ENOENT:
        return Refused(Flag.MISSING_NOTEBOOK, f"{what} disappeared while the grader read it",
                       "refused:gone")
    if err.errno == errno.ENXIO:
        return Refused(Flag.INVALID_NOTEBOOK, f"{what} is not a regular file (a socket or device)",
                       "refused:special")
    return Refused(Flag.INVALID_NOTEBOOK, f"{what} could not be opened "
                   f"({errno.errorcode.get(err.errno, err.errno)})", "refused:oserror")


def open_nofollow(root, parts, what="the notebook", *, directory=False):
    """A read-only fd for root/parts[0]/.../parts[-1]; no component may be a link.

    `root` (the folder the instructor named) is opened as given; every name
    in `parts` is one directory entry, opened relative to its parent's fd.
    The last one must be a folder when `directory`, else it is opened
    non-blocking (a FIFO opens at once and is refused by the caller's fstat).
    """
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for i, name in enumerate(parts):
            last = i == len(parts) - 1
            flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
            flags |= os.O_NONBLOCK if last and not directory else os.O_DIRECTORY
            label = what if last else ("the student folder" if i == 0 else f"the folder {name!r}")
            try:
                child = os.open(name, flags, dir_fd=fd)
            except OSError as e:
                raise _refusal(e, fd, name, label) from None
            os.close(fd)
            fd = child
        return fd
    except BaseException:
        os.close(fd)
        raise


def symlink_problem(what):
    return (f"{what} is a symbolic link; the grader does not follow links "
            "(submit the notebook file itself): 0 points")


def special_file_problem(what, mode):
    return f"{what} is {describe_mode(mode)}, not a notebook file"


def too_large_problem(what, size):
    return (f"{what} is {megabytes(size)}; the grader reads notebooks up to "
            f"{megabytes(MAX_BYTES)} (clear the outputs: Kernel > Restart Kernel and "
            "Clear Outputs, save, submit again)")


def _check_regular(fd, what):
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        raise Refused(Flag.INVALID_NOTEBOOK, special_file_problem(what, st.st_mode),
                      "refused:special")
    if st.st_size > MAX_BYTES:
        raise Refused(Flag.INVALID_NOTEBOOK, too_large_problem(what, st.st_size),
                      f"refused:size:{st.st_size}")
    return st


def _chunks(fd, what):
    """The file's bytes in chunks, refusing it once more than MAX_BYTES were read."""
    total = 0
    while True:
        try:
            chunk = os.read(fd, 1 << 20)
        except OSError as e:
            raise Refused(Flag.INVALID_NOTEBOOK, f"{what} could not be read "
                          f"({errno.errorcode.get(e.errno, e.errno)})", "refused:ioerror") from None
        if not chunk:
            return
        total += len(chunk)
        if total > MAX_BYTES:     # it grew after fstat
            raise Refused(Flag.INVALID_NOTEBOOK, f"{what} is larger than {megabytes(MAX_BYTES)}",
                          "refused:size:grew")
        yield chunk


def read_bytes(root, parts, what="the notebook"):
    """(bytes, sha256 hex) of the notebook; raises Refused."""
    fd = open_nofollow(root, parts, what)
    try:
        _check_regular(fd, what)
        data = b"".join(_chunks(fd, what))
    finally:
        os.close(fd)
    return data, hashlib.sha256(data).hexdigest()


def sha256_of(root, parts, what="the notebook"):
    """The cache key of a notebook: its sha256, or the refusal's marker."""
    try:
        fd = open_nofollow(root, parts, what)
    except Refused as r:
        return r.marker
    try:
        _check_regular(fd, what)
        h = hashlib.sha256()
        for chunk in _chunks(fd, what):
            h.update(chunk)
        return h.hexdigest()
    except Refused as r:
        return r.marker
    finally:
        os.close(fd)


# ------------------------------------------------------------ the reader child


class ReaderDied(Exception):
    """The child stopped while parsing: `reason` says how."""

    def __init__(self, reason, retry):
        super().__init__(reason)
        self.reason, self.retry = reason, retry


class ReaderUnavailable(RuntimeError):
    """The child could not be started: an internal error of the grader, not the student's."""


_CHILD_CODE = ("import sys; sys.path.insert(0, sys.argv[1]); "
               "from autograder.submissions.reader_child import main; main()")


class ReaderProcess:
    """One reader child; `parse` sends it a notebook and returns its reply dict."""

    def __init__(self, *, memory_mb=CHILD_MEMORY_MB, cpu_seconds=CHILD_CPU_SECONDS,
                 wall_seconds=CHILD_WALL_SECONDS):
        self.memory_mb, self.cpu_seconds, self.wall_seconds = memory_mb, cpu_seconds, wall_seconds
        self.proc = None
        self.ready = False

    def start(self):
        package_parent = str(Path(__file__).resolve().parents[2])
        self.proc = subprocess.Popen(
            [sys.executable, "-E", "-s", "-c", _CHILD_CODE, package_parent,
             str(self.memory_mb), str(self.cpu_seconds), str(MAX_REPLY_BYTES)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            close_fds=True, start_new_session=True)
        self.ready = False

    def _reply(self, deadline, cap):
        fd = self.proc.stdout.fileno()
        (n,) = _FRAME.unpack(read_exact(fd, _FRAME.size, deadline))
        if n > cap:
            raise EOFError
        # A door for student text (untrusted.py): a notebook's JSON may escape lone
        # surrogates into its sources, grade ids and kernel names.
        return valid_tree(json.loads(read_exact(fd, n, deadline)))

    def _died(self, timed_out):
        """Stop the child and say why it stopped."""
        if timed_out and self.proc is not None:
            self.proc.kill()
        rc = self.close()
        if timed_out:
            return ReaderDied(f"reading it took more than {self.wall_seconds} s", retry=True)
        if rc == -24:       # SIGXCPU: the per-notebook CPU budget is spent
            return ReaderDied(f"reading it took more than {self.cpu_seconds} s of CPU",
                              retry=False)
        how = f"signal {-rc}" if rc is not None and rc < 0 else f"status {rc}"
        return ReaderDied(f"the reader stopped ({how})", retry=True)

    def parse(self, data, request):
        """The child's reply to (request dict, notebook bytes); raises ReaderDied.

        With {"outline": true}, an ok reply also holds "outline": the outline of the same
        bytes, from the child's second frame (None when that frame did not come: the
        child is then replaced, and the code reply stands)."""
        if self.proc is None:
            self.start()
        if not self.ready:
            try:
                hello = self._reply(time.monotonic() + CHILD_START_SECONDS, 1024)
            except (EOFError, TimeoutError, OSError, ValueError):
                self.close()
                raise ReaderUnavailable("the notebook reader process did not start") from None
            if hello.get("ready") is not True:
                self.close()
                raise ReaderUnavailable("the notebook reader process did not start")
            self.ready = True
        header = json.dumps(request).encode()
        try:
            self.proc.stdin.write(_FRAME.pack(len(header)) + header + _FRAME.pack(len(data)))
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
            reply = self._reply(time.monotonic() + self.wall_seconds, MAX_REPLY_BYTES)
        except TimeoutError:
            raise self._died(True) from None
        except (EOFError, OSError, ValueError):
            raise self._died(False) from None
        rss = reply.pop("rss_kb", 0)
        if request.get("outline") and reply.get("ok"):
            reply["outline"], rss_then = self._outline()
            rss = max(rss, rss_then)
        if rss > CHILD_MAX_RSS_KB:
            self.close()      # a big notebook leaves the heap grown: start afresh next time
        return reply

    def _outline(self):
        """(outline or None, the child's resident KB) from the frame after an ok code reply."""
        try:
            shown = self._reply(time.monotonic() + self.wall_seconds, MAX_REPLY_BYTES)
        except (TimeoutError, EOFError, OSError, ValueError) as e:
            self._died(isinstance(e, TimeoutError))     # stopped; the next parse starts one
            return None, 0
        rss = shown.get("rss_kb", 0)
        return shown.get("outline"), rss if isinstance(rss, int) else 0

    def close(self):
        """Stop the child; its exit status (negative: the signal), or None."""
        proc, self.proc, self.ready = self.proc, None, False
        if proc is None:
            return None
        # Said in the channel, not only by closing it: a copy of its input held by a
        # process forked since (the course writer) would keep the end of input from
        # ever coming. Never waited for: a child not reading is stopped below.
        try:
            os.set_blocking(proc.stdin.fileno(), False)
            os.write(proc.stdin.fileno(), _END)
        except (OSError, ValueError):
            pass
        for f in (proc.stdin, proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        try:
            return proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()

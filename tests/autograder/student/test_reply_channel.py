"""Issue 8, class 4: student code can write to the worker's reply pipe; it gains nothing.

The worker's private reply fd is reachable from student code (found through
the harness's frames, or by scanning descriptors). Whatever it writes there,
a forged reply never shifts a later reply, the grader holds at most the
reply caps, and the student gets `crash` for that call only: the next call
runs in a restarted worker and gets its own, right answer.
"""
import resource

import numpy as np
import pytest

from autograder.sandbox import bwrap_available, worker as wire
from autograder.student import SandboxStudent
from tests.autograder.helpers import jail

UNSAFE = not bwrap_available()

FIND_FD = '''
import os, stat, struct, sys, fcntl

def _fd_from_frames():
    f = sys._getframe()
    while f is not None:
        if f.f_code.co_name == "main" and "wfd" in f.f_locals:
            return f.f_locals["wfd"]
        f = f.f_back
    raise RuntimeError("no main frame")

def _fds_by_scan():
    found = []
    for fd in range(3, 256):
        try:
            st = os.fstat(fd)
            flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        except OSError:
            continue
        if stat.S_ISFIFO(st.st_mode) and flags & os.O_ACCMODE == os.O_WRONLY:
            found.append(fd)
    return found

def _request_id():
    f = sys._getframe()
    while f is not None:
        if f.f_code.co_name == "main" and "msg_id" in f.f_locals:
            return f.f_locals["msg_id"]
        f = f.f_back
    return 0

MAGIC, HEADER = b"AGw2", struct.Struct(">4sQII")

def honest(x):
    return x * 2
'''

ATTACKS = {
    # 60 MB announced and written: refused at the header, memory stays bounded.
    "huge_from_frames": '''
def attack(x):
    fd = _fd_from_frames()
    os.write(fd, HEADER.pack(MAGIC, _request_id(), 60 * 2**20, 0))
    chunk = b"[" * 2**20
    for _ in range(60):
        os.write(fd, chunk)
    return x
''',
    "huge_by_scan": '''
def attack(x):
    for fd in _fds_by_scan():
        try:
            os.write(fd, HEADER.pack(MAGIC, 1, 0xFFFFFFF0, 0xFFFFFFF0) + b"x" * 2**20)
        except OSError:
            pass
    return x
''',
    # Garbage, not a frame.
    "garbage_from_frames": '''
def attack(x):
    os.write(_fd_from_frames(), b"\\x00\\x00\\x00\\x10" + b'{"ok": true}    ')
    return x
''',
    "garbage_by_scan": '''
def attack(x):
    for fd in _fds_by_scan():
        try:
            os.write(fd, b"hello grader" * 100)
        except OSError:
            pass
    return x
''',
    # A well-formed reply for this very request, then the harness's own:
    # the second must not become the answer to the next request.
    "forged_reply_right_id": '''
import json
def attack(x):
    body = json.dumps({"results": [{"ok": True, "value": None}]}).encode()
    body += b" " * (-len(body) % 16)
    os.write(_fd_from_frames(), HEADER.pack(MAGIC, _request_id(), len(body), 0) + body)
    return x
''',
    # A reply to a request that was never sent (a guessed id).
    "forged_reply_wrong_id": '''
import json
def attack(x):
    body = json.dumps({"results": [{"ok": True, "value": None}]}).encode()
    os.write(_fd_from_frames(), HEADER.pack(MAGIC, 12345, len(body), 0) + body)
    return x
''',
    # A reply of the right id that is not what the harness sends.
    "malformed_results": '''
import json
def attack(x):
    body = json.dumps({"results": [{"ok": True, "value": "text"}] * 3}).encode()
    os.write(_fd_from_frames(), HEADER.pack(MAGIC, _request_id(), len(body), 0) + body)
    os._exit(0) if False else None
    import time; time.sleep(0.2)
    return x
''',
}


def _rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_a_forged_reply_costs_that_call_only(name):
    student = SandboxStudent([("imports", "import numpy as np"),
                              ("cell", FIND_FD + ATTACKS[name])],
                             jail=jail(unsafe=UNSAFE, timeout=20))
    try:
        before = _rss_mb()
        x = np.arange(3.0)
        (out,) = student.call("attack", [(x,)])
        forged_accepted = out.ok and out.value is None
        assert not out.ok or forged_accepted or np.array_equal(out.value, x)
        # Whatever happened to that call, the next ones get their own answers.
        for k in range(3):
            (nxt,) = student.call("honest", [(np.full(2, float(k)),)])
            if nxt.ok:
                assert np.array_equal(nxt.value, np.full(2, 2.0 * k)), (name, nxt)
            else:
                assert nxt.kind == "fault" and "crash" in nxt.error, nxt
        (last,) = student.call("honest", [(np.ones(2),)])
        assert last.ok and np.array_equal(last.value, np.full(2, 2.0))
        if not out.ok:
            assert out.kind == "fault" and "crash" in out.error, out.error
            assert "crash" in student.flags
        assert _rss_mb() - before < 64      # the grader never read the forged 60 MB
    finally:
        student.close()


def test_the_caps_leave_room_for_the_largest_honest_reply():
    """The biggest reply the checks can cause fits with room to spare (see worker.py)."""
    assert wire.REPLY_BLOB_CAP >= 1 * 2**20 and wire.REPLY_JSON_CAP >= 256 * 2**10


@pytest.mark.parametrize("result", [
    {"ok": True, "value": "text"},
    {"ok": True, "value": np.arange(3)},                  # ints: plain() sends floats
    {"ok": True, "value": {"__bad__": 3}},
    {"ok": True, "value": [np.zeros(1)] * 9},
    {"ok": "yes", "value": None},
    {"ok": True, "value": None, "modified": [{"x": 1}]},
    {"ok": True, "value": None, "warnings": [[1]]},
    {"ok": False, "error": ["not", "a", "string"]},
    ["not", "a", "dict"],
])
def test_results_the_harness_never_makes_are_refused(result):
    from autograder.student.interface import _result_ok
    assert not _result_ok(result)


def test_results_the_harness_makes_are_accepted():
    from autograder.sandbox.worker import plain
    from autograder.student.interface import _result_ok
    for value in (None, 2.0, (1.0, np.ones((2, 2))), object()):
        assert _result_ok({"ok": True, "value": plain(value), "modified": [False],
                           "warnings": ["w"]})
    assert _result_ok({"ok": False, "error": "ValueError: x", "kind": "exception"})


@pytest.mark.parametrize("envelope", [
    {"output_bytes": "many"}, {"output_bytes": -1}, {"suspicious": 5},
    {"suspicious": [{"a": 1}]}, {"suspicious": ["x"] * 21}, [1, 2],
])
def test_replies_with_an_envelope_the_harness_never_sends_are_refused(envelope):
    from autograder.sandbox.session import _envelope_ok
    assert not _envelope_ok(envelope)
    assert _envelope_ok({"ok": True, "output_bytes": 0, "suspicious": ["import ctypes"]})

"""The wire format between grader and worker: frames, ids, caps."""
import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from autograder.sandbox import worker


def _round_trip(msg, msg_id=7):
    frame = worker.pack(msg, msg_id)
    reader = worker.FrameReader(msg_id, json_cap=1 << 30, blob_cap=1 << 30)
    while not reader.done:
        n = reader.want()
        reader.feed(frame[:n])
        frame = frame[n:]
    assert frame == b""         # the reader never reads past its frame
    return reader.message()


def test_arrays_round_trip_exactly():
    msg = {"a": np.arange(6.0).reshape(2, 3), "b": [np.int64(3), 1.5, None],
           "c": np.array([True, False]), "d": np.asfortranarray(np.arange(6).reshape(2, 3))}
    back = _round_trip(msg)
    assert np.array_equal(back["a"], msg["a"]) and back["a"].shape == (2, 3)
    assert back["b"][0] == 3 and back["b"][1:] == [1.5, None]
    assert back["c"].dtype == bool
    assert np.array_equal(back["d"], msg["d"])
    back["a"][0, 0] = 9.0       # arrays handed out are writable copies


def _frame(obj, blob=b"", msg_id=1):
    data = json.dumps(obj).encode()
    return worker.HEADER.pack(worker.MAGIC, msg_id, len(data), len(blob)) + data + blob


def _read(frame, msg_id=1, **caps):
    reader = worker.FrameReader(msg_id, **caps)
    while not reader.done:
        n = reader.want()
        if not frame:
            raise EOFError
        reader.feed(frame[:n])
        frame = frame[n:]
    return reader.message()


@pytest.mark.parametrize("spec", [
    ["|O", [1], 0],                 # object dtype: never unpickled
    ["<f8", [10], 0],               # more bytes than the blob holds
    ["<f8", [1], 4],                # runs past the end of the blob
    ["<f8", [1], -8],               # negative offset
    ["<f8", [1.5], 0],              # not an int
    ["<f8", [2**62, 0], 0],         # absurd dimension
    ["<f8", [1] * 40, 0],           # too many dimensions
    ["<f8", [1]],                   # header of the wrong length
])
def test_decode_refuses_arrays_outside_the_rules(spec):
    with pytest.raises(worker.BadFrame):
        _read(_frame({"v": {"__nd__": spec}}, blob=b"\0" * 8))


def test_reader_refuses_wrong_magic_id_and_oversize_before_reading_the_body():
    good = _frame({"ok": True}, msg_id=5)
    assert _read(good, msg_id=5) == {"ok": True}
    with pytest.raises(worker.BadFrame, match="another request"):
        _read(good, msg_id=6)
    with pytest.raises(worker.BadFrame, match="not a frame"):
        _read(b"XXXX" + good[4:], msg_id=5)
    # A header announcing 3 GB is refused before any buffer is allocated.
    huge = worker.HEADER.pack(worker.MAGIC, 5, 0xFFFFFFF0, 0xFFFFFFF0)
    reader = worker.FrameReader(5)
    with pytest.raises(worker.BadFrame, match="over the cap"):
        reader.feed(huge)
    assert reader.body is None
    with pytest.raises(worker.BadFrame, match="over the cap"):
        _read(_frame({"x": "y" * 100}, msg_id=5), msg_id=5, json_cap=50)


def test_arrays_that_alias_one_block_are_refused():
    """6800 headers on one 1 MB block would decode to 6.8 GB of copies."""
    ref = {"__nd__": ["<f8", [1024], 0]}
    with pytest.raises(worker.BadFrame, match="overlap"):
        _read(_frame({"results": [ref, ref]}, blob=b"\0" * 8192))
    # Disjoint arrays filling the blob exactly are fine.
    two = {"results": [{"__nd__": ["<f8", [512], 0]}, {"__nd__": ["<f8", [512], 4096]}]}
    assert len(_read(_frame(two, blob=b"\0" * 8192))["results"]) == 2


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b"[" * 100000 + b"]" * 100000])
def test_unreadable_bodies_are_bad_frames_not_exceptions(body):
    frame = worker.HEADER.pack(worker.MAGIC, 1, len(body), 0) + body
    with pytest.raises(worker.BadFrame):
        _read(frame, json_cap=1 << 20)


def test_largest_honest_reply_is_well_under_the_caps():
    """The cap is set from the largest reply an honest student can cause.

    The biggest the softmax checks ask for: 20 calls returning (loss, dW)
    with dW of 10 x 65 and a (50, 10) softmax, each with warnings and a
    long error line, and 20 noted suspicious acts.
    """
    result = {"ok": True, "value": [np.float64(1.0), np.zeros((10, 65))],
              "modified": [False] * 4, "warnings": ["w" * 120] * 5, "error": "e" * 300}
    reply = {"results": [result] * 20 + [{"ok": True, "value": np.zeros((50, 10))}] * 10,
             "output_bytes": 10**9, "suspicious": ["s" * 300] * 20}
    frame = worker.pack(worker.bounded(reply), 1)
    magic, _, json_len, blob_len = worker.HEADER.unpack(frame[:worker.HEADER.size])
    assert json_len * 4 < worker.REPLY_JSON_CAP
    assert blob_len * 4 < worker.REPLY_BLOB_CAP


def test_bounded_cuts_every_string_a_student_can_name():
    reply = {"error": "x" * 10**6, "results": [{"__bad__": "N" * 10**6}], "k" * 10**5: 1}
    out = worker.bounded(reply)
    assert len(json.dumps(out)) < 4 * worker.MAX_STRING + 200


def test_fit_drops_arrays_that_would_break_the_cap():
    big = {"results": [{"ok": True, "value": np.zeros(worker.REPLY_BLOB_CAP // 8 + 1)}]}
    out = worker.fit(big)
    assert "too large" in out["results"][0]["value"]["__bad__"]
    small = {"results": [{"ok": True, "value": np.zeros(3)}]}
    assert worker.fit(small) is small


def test_plain_turns_student_values_into_numbers_or_names_them():
    assert worker.plain(None) is None
    assert worker.plain(2).shape == ()
    loss_dw = worker.plain((1.0, np.ones((2, 2))))
    assert isinstance(loss_dw, list) and loss_dw[1].shape == (2, 2)

    class Fake:
        def __eq__(self, other):
            return True
    assert worker.plain(Fake()) == {"__bad__": "Fake"}

    class Liar(np.ndarray):
        def __eq__(self, other):
            return True
    v = worker.plain(np.zeros(3).view(Liar))
    assert type(v) is np.ndarray and not (v == np.ones(3)).all()

    long_name = type("N" * 10**5, (), {})()
    assert len(worker.plain(long_name)["__bad__"]) <= 100


_values = st.sampled_from([0.0, -0.0, 1.0, -1.5, np.nan, -np.nan, np.inf, -np.inf, 1e-300])


@settings(max_examples=300, deadline=None)
@given(before=st.lists(_values, min_size=1, max_size=12), data=st.data())
def test_modified_says_what_array_equal_with_equal_nan_says(before, data):
    """The plain comparison first is only a shortcut: every change a call can make in
    place (values, a NaN for a number, -0.0 for 0.0, the shape, the dtype) gets the
    answer of np.array_equal(equal_nan=True), the rule it replaces."""
    original = np.array(before)
    arg = original.copy()
    change = data.draw(st.sampled_from(["none", "value", "shape", "dtype"]))
    if change == "value":
        arg[data.draw(st.integers(0, arg.size - 1))] = data.draw(_values)
    elif change == "shape" and arg.size % 2 == 0:
        arg.shape = (2, arg.size // 2)
    elif change == "dtype":
        arg.dtype = np.int64
    assert worker._modified(original, arg) == (
        not np.array_equal(original, arg, equal_nan=True))


def test_modified_is_false_for_arguments_that_are_no_arrays():
    assert worker._modified(3.0, 3.0) is False
    assert worker._modified([1.0], [2.0]) is False

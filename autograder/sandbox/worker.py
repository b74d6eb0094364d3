"""The process that runs one student's code, inside the sandbox.

It is copied alone into the sandbox: it imports nothing from the grader and
holds no reference solution or expected value. It executes the student's
solution cells, calls their functions on inputs the grader sends and sends
back plain numbers. Every judgement happens in the grader, outside.

Wire format (both ways), one frame per message:

    HEADER: magic b"AGw2", message id (u64), JSON length (u32), blob length (u32)
    then the UTF-8 JSON, then the blob (the raw bytes of every array, back to back)

Arrays travel as {"__nd__": [dtype, shape, offset into the blob]} with a short
dtype whitelist, so nothing the student returns is ever unpickled or evaluated
by the grader, and a large array costs a copy, not base64 and JSON. A reply
echoes the id of its request: the grader reads exactly one frame of bounded
size for each request and refuses any other byte (see `FrameReader`), since
student code runs in this process and can write to the reply pipe.
"""
import builtins
import json
import linecache
import operator
import os
import struct
import sys
import warnings

import numpy as np

# Captured before any student code runs: rebinding np.asarray & co. from a
# cell cannot change what the harness uses.
_asarray = np.asarray
_array = np.array
_array_equal = np.array_equal
_frombuffer = np.frombuffer
_ndarray = np.ndarray
_generic = np.generic

DTYPES = {"<f8", "<f4", "<i8", "<i4", "|b1", "|u1"}
MAGIC = b"AGw2"
HEADER = struct.Struct(">4sQII")
MAX_DIMS = 32
# Arrays start at multiples of ALIGN in the body (the JSON is padded with
# spaces), so the receiver can use them in place, aligned.
ALIGN = 16
# Requests come from the grader (trusted); a bound all the same.
MAX_REQUEST_JSON = 64 * 1024 * 1024
MAX_REQUEST_BLOB = 1024 * 1024 * 1024
# Replies come from a process student code runs in. The largest honest reply
# while grading the softmax samples is 1.2 KB of JSON and 21 KB of arrays
# (measured over 395 replies); the caps leave ~200x and ~50x headroom, and a
# wrong but honest answer too large for them is replaced by a note before it
# is sent (`fit`), so only a reply written by student code can break them.
REPLY_JSON_CAP = 256 * 1024
REPLY_BLOB_CAP = 1024 * 1024
MAX_STRING = 2000
OUTPUT_CAP = 1024 * 1024


class BadFrame(ValueError):
    """A frame that breaks the wire format, its size caps or its id."""


def encode(obj, blobs):
    """Plain data -> JSON-able; arrays are listed in `blobs` as (offset, array)
    with their offsets in the blob, each a multiple of ALIGN."""
    if isinstance(obj, _ndarray):
        a = _asarray(obj)               # the base class: no subclass method runs
        if a.dtype.str not in DTYPES:
            a = a.astype(float)
        offset = blobs[-1][0] + blobs[-1][1].nbytes if blobs else 0
        offset += -offset % ALIGN
        blobs.append((offset, a))
        return {"__nd__": [a.dtype.str, list(a.shape), offset]}
    if isinstance(obj, _generic):
        # A numpy scalar stays a numpy scalar (a label np.int64(4) has .reshape).
        return {"__np__": encode(_array(obj).reshape(1), blobs)}
    if isinstance(obj, dict):
        return {str(k): encode(v, blobs) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [encode(v, blobs) for v in obj]
    return obj


def _array_from(spec, blob, copy, left):
    dtype, shape, offset = spec
    if dtype not in DTYPES:
        raise BadFrame(f"refused dtype {dtype!r}")
    if (not isinstance(shape, list) or len(shape) > MAX_DIMS
            or not all(type(s) is int and 0 <= s <= len(blob) for s in shape)
            or type(offset) is not int):
        raise BadFrame("bad array header")
    count = 1
    for s in shape:
        count *= s
    nbytes = count * np.dtype(dtype).itemsize
    if not 0 <= offset <= offset + nbytes <= len(blob):
        raise BadFrame("array outside the blob")
    # Arrays of a frame never share bytes, so together they are at most the
    # blob: headers that alias one block cannot multiply what decoding holds.
    left[0] -= nbytes
    if left[0] < 0:
        raise BadFrame("arrays that overlap in the blob")
    a = _frombuffer(blob, dtype=np.dtype(dtype), count=count, offset=offset).reshape(shape)
    return a.copy() if copy else a


def decode(obj, blob=b"", copy=True, left=None):
    """Inverse of encode; refuses any dtype outside the whitelist, any array
    that does not lie inside `blob`, and arrays that together need more bytes
    than the blob holds. With copy=False arrays are views of `blob` (writable
    when it is a bytearray)."""
    if left is None:
        left = [len(blob)]
    if isinstance(obj, dict):
        if set(obj) == {"__nd__"}:
            spec = obj["__nd__"]
            if not isinstance(spec, list) or len(spec) != 3:
                raise BadFrame("bad array header")
            return _array_from(spec, blob, copy, left)
        if set(obj) == {"__np__"}:
            inner = decode(obj["__np__"], blob, copy, left)
            if not isinstance(inner, _ndarray) or inner.shape != (1,):
                raise BadFrame("bad numpy scalar")
            return inner[0]
        return {k: decode(v, blob, copy, left) for k, v in obj.items()}
    if isinstance(obj, list):
        return [decode(v, blob, copy, left) for v in obj]
    return obj


def pack(obj, msg_id):
    """One frame holding `obj`, built in one buffer with one copy of each array."""
    blobs = []
    data = json.dumps(encode(obj, blobs)).encode("utf-8")
    data += b" " * (-len(data) % ALIGN)
    blob_len = blobs[-1][0] + blobs[-1][1].nbytes if blobs else 0
    start = HEADER.size + len(data)
    frame = bytearray(start + blob_len)
    HEADER.pack_into(frame, 0, MAGIC, msg_id, len(data), blob_len)
    frame[HEADER.size:start] = data
    for offset, a in blobs:
        if a.size:
            _frombuffer(frame, dtype=a.dtype, count=a.size, offset=start + offset) \
                .reshape(a.shape)[...] = a
    return frame


def unpack(data, blob, copy=True):
    """The message of a frame's JSON bytes and blob; BadFrame when malformed."""
    try:
        return decode(json.loads(bytes(data).decode("utf-8")), blob, copy)
    except BadFrame:
        raise
    except (ValueError, TypeError, KeyError, IndexError, RecursionError) as e:
        raise BadFrame(f"unreadable ({type(e).__name__})") from None


class FrameReader:
    """Reads exactly one frame with a given id, never more than the caps.

    `want()` says how many bytes to read next (never past the frame's end,
    so bytes after it stay in the pipe for the caller to notice); `feed()`
    raises BadFrame on a wrong magic, a wrong id or a size over the caps, as
    soon as the header shows it. Memory held: at most the caps.
    """

    def __init__(self, msg_id, json_cap=REPLY_JSON_CAP, blob_cap=REPLY_BLOB_CAP):
        self.msg_id, self.json_cap, self.blob_cap = msg_id, json_cap, blob_cap
        self.head = bytearray()
        self.body = None
        self.got = 0
        self.json_len = 0

    def want(self):
        if self.body is None:
            return HEADER.size - len(self.head)
        return min(len(self.body) - self.got, 1 << 20)

    @property
    def done(self):
        return self.body is not None and self.got == len(self.body)

    def feed(self, chunk):
        if self.body is None:
            self.head += chunk
            if len(self.head) < HEADER.size:
                return
            magic, msg_id, json_len, blob_len = HEADER.unpack(self.head)
            if magic != MAGIC:
                raise BadFrame("not a frame of the wire format")
            if msg_id != self.msg_id:
                raise BadFrame("a reply to another request")
            if json_len > self.json_cap or blob_len > self.blob_cap:
                raise BadFrame(f"a reply of {json_len + blob_len} bytes, over the cap of "
                               f"{self.json_cap + self.blob_cap}")
            self.json_len = json_len
            self.body = bytearray(json_len + blob_len)
            return
        self.body[self.got:self.got + len(chunk)] = chunk
        self.got += len(chunk)

    def message(self):
        view = memoryview(self.body)
        return unpack(view[:self.json_len], view[self.json_len:])


def write_message(fd, msg_id, obj):
    view = memoryview(pack(obj, msg_id))
    while view:
        n = os.write(fd, view)
        view = view[n:]


def read_exact(fd, n):
    chunks, got = [], 0
    while got < n:
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def read_message(fd):
    """(id, message) of the next request frame."""
    magic, msg_id, json_len, blob_len = HEADER.unpack(read_exact(fd, HEADER.size))
    if magic != MAGIC or json_len > MAX_REQUEST_JSON or blob_len > MAX_REQUEST_BLOB:
        raise BadFrame("bad request frame")
    # One fresh buffer per request, filled in place: the arrays handed to
    # the student's code are views of it (no further copy, no page faults of
    # a second buffer), and no two requests share memory.
    body = bytearray(json_len + blob_len)
    view, got = memoryview(body), 0
    while got < len(body):
        n = os.readv(fd, [view[got:]])
        if not n:
            raise EOFError
        got += n
    return msg_id, unpack(view[:json_len], view[json_len:], copy=False)


def bounded(obj, depth=0):
    """`obj` with every string cut at MAX_STRING characters (what the student
    names: a class, an exit code, a path, can be of any length)."""
    if isinstance(obj, str):
        return obj[:MAX_STRING]
    if isinstance(obj, dict):
        return {str(k)[:MAX_STRING]: bounded(v, depth + 1) for k, v in obj.items()}
    if isinstance(obj, list):
        return [bounded(v, depth + 1) for v in obj]
    return obj


# ---------------------------------------------------------------- harness


class CappedWriter:
    """Stands in for stdout/stderr: keeps the first bytes, counts the rest."""

    def __init__(self):
        self.kept = []
        self.size = 0

    def write(self, s):
        s = str(s)
        if self.size < 4096:
            self.kept.append(s[: 4096 - self.size])
        self.size += len(s)
        return len(s)

    def flush(self):
        pass

    def isatty(self):
        return False


class _NoIPython:
    """`%magic` and `!cmd` lines in a cell do nothing when graded."""

    def run_line_magic(self, *a, **k):
        return None

    def run_cell_magic(self, *a, **k):
        return None

    def system(self, *a, **k):
        return None

    def getoutput(self, *a, **k):
        return []


def _modified(original, arg):
    """Whether `arg` no longer equals `original`, its copy from before the call (NaN
    equal to NaN); False for an argument that is no array. The plain comparison
    first: an unchanged argument (nearly every call) then costs one pass, where
    equal_nan's allocates NaN masks and two copies of the values (~4 ms and ~2,500
    fresh pages for a hidden batch of 3.2 MB); the answer is the same either way."""
    if not isinstance(original, _ndarray):
        return False
    try:
        if _array_equal(original, arg):
            return False
    except Exception:  # noqa: BLE001 - an argument whose dtype was changed in place
        pass
    return not _array_equal(original, arg, equal_nan=True)


def plain(value, depth=0):
    """A student's return value as plain data: float arrays and short lists.

    Numbers, arrays and lists of numbers become float64 arrays (copies of the
    base class, so an ndarray subclass loses any overridden __eq__); a short
    tuple holding arrays, such as (loss, dW), keeps its structure. Any other
    object is reported by its type name and never compared.
    """
    if value is None:
        return None
    cls = type(value)
    # Classes, not isinstance(): that would ask the object its __class__, the student's
    # to define; a class's metaclass may define __name__ too, so names are type's.
    if (cls in (tuple, list) and 0 < len(value) <= 8 and depth < 3
            and any(issubclass(type(v), (_ndarray, tuple, list)) for v in value)):
        return [plain(v, depth + 1) for v in value]
    if issubclass(cls, (_ndarray, _generic, bool, int, float, list, tuple)):
        try:
            return _array(value, dtype=float, copy=True, subok=False)
        except BaseException as e:  # noqa: BLE001 - student objects can raise anything
            return {"__bad__": f"{_class_name(cls)} that is not numeric "
                               f"({_class_name(type(e))})"}
    return {"__bad__": _class_name(cls)}


# Bound now: a cell can rebind builtins.str.
_str = str
_str_copy = str.__str__      # a str subclass's text as a plain str, by str's own code


def own_text(obj):
    """str(obj) as a plain str, or None when it fails. It runs the student's __str__
    (watched, as all their code): which may raise anything, even SystemExit, or return
    a str subclass whose methods are theirs too; neither reaches the harness."""
    try:
        text = _str(obj)
        return text if type(text) is _str else _str_copy(text)
    except BaseException:  # noqa: BLE001 - student objects can raise anything
        return None


def describe_error(exc, quiet=None, lines=None):
    """One line: the exception and the line of student code that raised it.

    The message is read first (str() may run the student's code, watched);
    the traceback is then walked under `quiet` (the watch would otherwise note
    the harness's own frame access), running no student code: the traceback is read
    through BaseException's own descriptor (a subclass's `__traceback__` property is
    theirs), its frames and code objects are the interpreter's, and the line is
    looked up in `lines` ({cell filename: its lines}, the harness's own record of the
    cells), never through linecache or a module's loader, which student code can reach.
    """
    text = own_text(exc)
    msg = ("<its message could not be read>" if text is None
           else text.splitlines()[0][:200] if text.strip() else "")
    name = _class_name(type(exc))

    def last_cell_line():
        found = None
        tb = _exc_traceback(exc)
        while tb is not None:
            filename, lineno = tb.tb_frame.f_code.co_filename, tb.tb_lineno
            if type(filename) is str and filename.startswith("<cell ") and type(lineno) is int:
                found = (filename, lineno)
            tb = tb.tb_next
        if found is None:
            return ""
        filename, lineno = found
        cell = (lines or {}).get(filename, [])
        line = cell[lineno - 1] if 0 < lineno <= len(cell) else ""
        return f" (in {filename[1:-1]}, line {lineno}: {line.strip()[:80]})"
    where = quiet(last_cell_line) if quiet else last_cell_line()
    return f"{name}{': ' + msg if msg else ''}{where}"


# The built-in exception classes, by identity: a student's class of the same name is
# not one of them.
BUILTIN_EXCEPTIONS = {c: n for n, c in vars(builtins).items()
                      if isinstance(c, type) and issubclass(c, BaseException)}
# At most this many, most derived first: a class may derive from twenty built-ins at once.
MAX_BUILTINS = 16
_type_name = type.__dict__["__name__"].__get__


def _class_name(cls):
    """A class's own name, at most 100 characters, as a plain str: read through type's
    descriptor (a metaclass's __name__ is the student's), and copied by str's own method
    (`Cls.__name__ = S("Cls")` stores a str subclass, whose slicing is theirs too)."""
    return _str_copy(_type_name(cls))[:100]


_exc_traceback = BaseException.__dict__["__traceback__"].__get__
_exit_code = SystemExit.__dict__["code"].__get__
_type_mro = type.__dict__["__mro__"].__get__
_name_error_name = NameError.__dict__["name"].__get__
_attribute_error_name = AttributeError.__dict__["name"].__get__
_attribute_error_obj = AttributeError.__dict__["obj"].__get__


def exception_facts(exc):
    """What an exception is, read off the object, never off its message.

    {"type": its class's name, "builtins": the built-in exception classes it derives
    from, most derived first, "name": the name a NameError or AttributeError missed
    (else None), "on": the type of the object an AttributeError looked on (else None)}.
    Read through the built-in descriptors, so a student's subclass overriding
    `name`, `__class__` or its metaclass's `__name__` runs no code and changes nothing.
    """
    cls = type(exc)
    facts = {"type": _class_name(cls),
             # `type(c) is type` first: a class of a student's metaclass is no built-in,
             # and looking it up would hash it with that metaclass's own __hash__.
             "builtins": [BUILTIN_EXCEPTIONS[c] for c in _type_mro(cls)
                          if type(c) is type and c in BUILTIN_EXCEPTIONS][:MAX_BUILTINS],
             "name": None, "on": None}
    if issubclass(cls, NameError):
        name = _name_error_name(exc)
        facts["name"] = name[:100] if type(name) is str else None
    elif issubclass(cls, AttributeError):
        name = _attribute_error_name(exc)
        facts["name"] = name[:100] if type(name) is str else None
        obj = _attribute_error_obj(exc)
        facts["on"] = _class_name(type(obj)) if obj is not None or name is not None else None
    return facts


WATCHED_MODULES = ("numpy", "numpy.testing", "numpy.linalg", "time", "builtins", "math")
FORBIDDEN_IMPORTS = frozenset({"autograder", "nbgrader", "ctypes", "_ctypes", "cffi"})
WATCHED_EVENTS = frozenset({
    "os.system", "subprocess.Popen", "os.fork", "os.forkpty", "os.exec", "os.posix_spawn",
    "os.spawn", "os.kill", "os.killpg", "socket.__new__", "socket.connect", "socket.bind",
    "socket.sendto", "socket.sendmsg", "socket.getaddrinfo", "socket.gethostbyname",
    "sys.addaudithook", "os.chdir"})
# The ways to reach the harness's own objects (and so the watch): frames and the garbage
# collector's lists. Honest code for these exercises needs none of them; libraries it may
# import do use some while being imported, which is not counted (see Watch.start).
INTROSPECTION = frozenset({
    "sys._getframe", "sys._current_frames", "gc.get_objects", "gc.get_referrers",
    "gc.get_referents", "sys.settrace", "sys.setprofile"})
FRAME_ATTRIBUTES = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame", "f_back"})
# The standard library's modules that hand frames back to their caller: asking through
# them is asking directly. Every other library that looks at frames does so for itself.
FRAME_RELAYS = frozenset(
    os.path.join(os.path.dirname(os.__file__), name) for name in ("inspect.py", "traceback.py"))


def _snapshot(modules=WATCHED_MODULES, _vars=vars, _loaded=sys.modules):
    """Every public attribute of the modules a cheat would patch: {"module.attr": object}.

    The objects themselves, compared by identity (`is`): id() would do as well but is
    an audited call, one run of the audit hook per attribute (~1 ms per graded call
    for ~800 attributes), and a held object's identity cannot be reused."""
    snap = {}
    for name in modules:
        mod = _loaded.get(name)
        if mod is not None:
            for attr, value in list(_vars(mod).items()):
                if not attr.startswith("__"):
                    snap[f"{name}.{attr}"] = value
    return snap


def _state(modules=WATCHED_MODULES, _vars=vars, _loaded=sys.modules, _list=list):
    """The watched modules as they are now, for a quick comparison (`_unchanged`): each
    module object (or None), its attribute names and its values, in the dict's order."""
    state = []
    for name in modules:
        mod = _loaded.get(name)
        d = _vars(mod) if mod is not None else {}
        state.append((mod, _list(d), _list(d.values())))
    return state


def _unchanged(now, before, _is=operator.is_, _all=all, _map=map, _len=len, _zip=zip):
    """True when every module, name and value of `now` is the very object of `before`.
    Only `is`: no __eq__ of an object student code may have put there is ever run."""
    for (m1, k1, v1), (m2, k2, v2) in _zip(now, before):
        if (m1 is not m2 or _len(k1) != _len(k2) or _len(v1) != _len(v2)
                or not _all(_map(_is, k1, k2)) or not _all(_map(_is, v1, v2))):
            return False
    return True


class Watch:
    """Notes what student code does that honest code never needs to.

    An audit hook (which no code can remove once added) sees imports of the
    grader, process creation, signals, sockets, reads of instructor paths, and
    every way to reach the harness's objects (frames, the gc's lists); a
    snapshot of numpy/time/builtins sees monkeypatching.

    Switching the watch off takes reaching it, and reaching it is itself
    watched: the note is written to the notes descriptor before the code that
    asked gets its answer. Everything the hook relies on is bound into it when
    it is made (frozen sets, the write function, the descriptor), so emptying
    or patching this module's globals changes nothing; the grader checks
    through /proc that the descriptor still is its pipe (see session.py).
    """

    def __init__(self, notes_fd=None):
        self.seen = []
        self.notes_fd = notes_fd
        self._baseline = _snapshot()
        self._state = _state()
        self._quiet = [False]

    def start(self, secrets=(), own_classes=()):
        """Install the hook; from now on every watched event is noted.

        own_classes: the harness's classes, whose patching is noted."""
        seen, quiet, fd = self.seen, self._quiet, self.notes_fd
        secrets = tuple(str(p) for p in secrets)

        def note(what, _write=os.write, _len=len):
            what = what[:300]
            if _len(seen) < 20 and what not in seen:
                seen.append(what)
            if fd is not None:
                try:
                    # Leading newline: a partial line the code wrote cannot swallow it.
                    _write(fd, ("\nSUSPICIOUS " + what.replace("\n", " ") + "\n").encode()[:310])
                except OSError:
                    pass

        busy = [False]

        def from_student(_getframe=sys._getframe, _busy=busy, _relays=FRAME_RELAYS,
                         _modules=sys.modules, _getattr=getattr):
            """The introspection was asked for by student code, not by a library it
            calls or imports: walking out from the code that asked, past the standard
            library's frame relays (inspect, traceback), the first frame is a cell's (or
            code it exec'd). A library that looks at its caller's frame for its own ends
            (collections.namedtuple and typing name the caller's module; scipy and
            matplotlib look at frames while imported or drawing) is not the student
            tampering, even when the student called it."""
            if _busy[0]:
                return False
            _busy[0] = True
            try:
                f = _getframe(2)
                while f is not None and f.f_code.co_filename in _relays:
                    f = f.f_back
                if f is None:
                    return False
                # A library's frame runs in its module's namespace, from that module's
                # file; code the student compiled under a library's file name does not.
                g = f.f_globals
                mod = _modules.get(g.get("__name__"))
                return not (mod is not None and _getattr(mod, "__dict__", None) is g
                            and _getattr(mod, "__file__", None) == f.f_code.co_filename)
            finally:
                _busy[0] = False

        def hook(event, args, _forbidden=FORBIDDEN_IMPORTS, _events=WATCHED_EVENTS,
                 _frames=FRAME_ATTRIBUTES, _secrets=secrets, _abspath=os.path.abspath,
                 _fsdecode=os.fsdecode, _note=note, _quiet=quiet, _str=str,
                 _isinstance=isinstance, _own=frozenset(own_classes),
                 _introspection=INTROSPECTION, _student=from_student):
            if _quiet[0]:
                return
            if event == "import" and args and _str(args[0]).split(".")[0] in _forbidden:
                _note(f"import {args[0]}")
            elif event in _introspection:
                if _student():
                    _note(event)
            elif event in _events:
                _note(event)
            elif event == "object.__getattr__" and len(args) > 1 and args[1] in _frames:
                if _student():
                    _note(f"frame access ({args[1]})")
            elif event in ("object.__setattr__", "object.__delattr__") and args \
                    and args[0] in _own:
                _note(f"patched the grader's {getattr(args[0], '__name__', '?')}")
            elif event.startswith("ctypes."):
                _note("ctypes")
            elif event in ("open", "os.listdir", "os.scandir") and args and _secrets and \
                    _isinstance(args[0], (str, bytes)):
                path = _abspath(_fsdecode(args[0]))
                if any(path == s or path.startswith(s + "/") for s in _secrets):
                    _note(f"{event} {path}")

        baseline, clean, missing = self._baseline, [self._state], object()

        def check_patches(_snapshot=_snapshot, _state=_state, _unchanged=_unchanged,
                          _note=note):
            # After every graded call: the quick comparison with the last state in which
            # nothing of the baseline was patched; only when it differs (a patch, or an
            # attribute a module added, such as one NumPy loads lazily), the comparison
            # with the baseline itself, which names each patched attribute.
            state = _state()
            if _unchanged(state, clean[0]):
                return
            now = _snapshot()
            patched = [key for key, value in baseline.items()
                       if now.get(key, missing) is not value]
            for key in patched:
                _note(f"patched {key}")
            if not patched:
                clean[0] = state

        self.check_patches = check_patches
        sys.addaudithook(hook)

    def quiet(self, fn, *args):
        """fn(*args) unwatched: only for the harness's own frame walking, which runs
        no student code (see describe_error)."""
        self._quiet[0] = True
        try:
            return fn(*args)
        finally:
            self._quiet[0] = False

    def check_patches(self):
        """Replaced by start(); nothing to compare before the hook exists."""


class Harness:
    def __init__(self, watch=None):
        self.ns = {"__name__": "__main__", "np": np, "numpy": np,
                   "get_ipython": lambda: _NoIPython()}
        exec("import numpy as np", self.ns)
        self.out = CappedWriter()
        self.watch = watch
        self._watching = False
        # Bound now: replacing the module's globals or patching this class later
        # (both reachable through sys.modules["__main__"]) changes nothing here.
        self._describe = describe_error
        # The cells' lines, as run, for describe_error: linecache is the student's to change.
        self._cell_lines = {}
        self._facts = exception_facts
        self._quiet = watch.quiet if watch is not None else None
        for name, member in vars(Harness).items():
            if callable(member) and not name.startswith("__"):
                setattr(self, name, getattr(self, name))

    def guarded(self, fn, snapshot=True):
        """Run fn() catching everything; returns (value, error, kind, warns, raised):
        `error` the exception described for people, `raised` its typed facts
        (`exception_facts`), both None when fn returned.

        The audit hook watches everything from its start on; `snapshot` also
        compares numpy/time/builtins with their state before any student code
        (skipped on timed calls, where it would weigh on the measurement).
        """
        try:
            return self._guarded(fn)
        finally:
            if snapshot and self.watch is not None:
                self.watch.check_patches()

    def _guarded(self, fn):
        quiet, facts, lines = self._quiet, self._facts, self._cell_lines

        def describe(e, quiet):
            return self._describe(e, quiet, lines)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                return fn(), None, None, [(own_text(w.message) or "")[:120] for w in caught[:5]], None
            except MemoryError as e:
                return None, describe(e, quiet), "memory", [], facts(e)
            except RecursionError as e:
                return None, describe(e, quiet), "exception", [], facts(e)
            except SystemExit as e:
                code = (own_text(_exit_code(e)) or "?")[:100]
                return None, f"SystemExit: the code called exit({code})", "exception", [], \
                    facts(e)
            except BaseException as e:  # noqa: BLE001
                return None, describe(e, quiet), "exception", [], facts(e)

    def op_exec(self, msg):
        name, source = msg["name"], msg["source"]

        filename = f"<cell {name}>"
        # Registered so that tracebacks can quote the student's line.
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        self._cell_lines[filename] = source.splitlines()

        def run():
            exec(compile(source, filename, "exec"), self.ns)
        _, err, kind, _, raised = self.guarded(run)
        return {"ok": err is None, "error": err, "kind": kind, "raised": raised}

    def op_check(self, msg):
        """Run a released test cell (trusted code, no hidden input) in the student's
        namespace; a failed assert comes back whole, as the check cell shows it."""
        name, source = msg["name"], msg["source"]
        filename = f"<cell {name}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        self._cell_lines[filename] = source.splitlines()
        failure = []

        def run():
            try:
                exec(compile(source, filename, "exec"), self.ns)
            except AssertionError as e:
                # str() may run student code (a value in an f-string is evaluated
                # already; an exception object is not): guarded like the cell.
                failure.append((own_text(e) or "<its message could not be read>")[:MAX_STRING])
        _, err, kind, _, raised = self.guarded(run)
        if err is None and failure:
            return {"ok": False, "error": "AssertionError: " + failure[0], "kind": "assert"}
        return {"ok": err is None, "error": err, "kind": kind, "raised": raised}

    def call_one(self, fn_name, args, check_inputs=True, snapshot=None):
        """One call of a student function; `check_inputs` notes modified inputs.

        Timed calls pass check_inputs=False: no copies, no namespace snapshot,
        so the fixed cost around the call is small next to the call itself.
        `snapshot` (default: as `check_inputs`): compare the watched modules after it
        (a batch compares once, after its last call: `watched`).
        """
        fn = self.ns.get(fn_name)
        if fn is None:
            return {"ok": False, "error": f"NameError: {fn_name} is not defined", "kind": "missing"}
        originals = [_array(a, copy=True) if isinstance(a, _ndarray) else a
                     for a in args] if check_inputs else []
        value, err, kind, warns, raised = self.guarded(
            lambda: fn(*args), snapshot=check_inputs if snapshot is None else snapshot)
        if err is not None:
            return {"ok": False, "error": err, "kind": kind, "raised": raised}
        modified = [_modified(o, a) for o, a in zip(originals, args)]
        return {"ok": True, "value": plain(value), "modified": modified, "warnings": warns}

    def watched(self, run):
        """run() (a request's calls, none compared on its own), then one comparison of
        the watched modules. A patch is noted for the same request as when each call
        was compared, and one undone before the comparison goes unseen either way (in
        one call, or across two); each comparison reads every name of numpy, math, time
        and builtins (~830), ~30 us, which was two thirds of the harness's cost per call."""
        try:
            return run()
        finally:
            if self.watch is not None:
                self.watch.check_patches()

    def op_call(self, msg):
        return self.watched(lambda: {"results": [self.call_one(msg["fn"], list(a), snapshot=False)
                                                 for a in msg["calls"]]})

    def op_layer(self, msg):
        """Fresh instances of a class, then a sequence of method calls.

        A step is [method, args] or [method, args, k]: k picks the instance (a new
        one on first use; 0 when absent), so two layers can be used interleaved.
        Each step reports which of its array arguments it modified.
        """
        return self.watched(lambda: self._layer(msg))

    def _layer(self, msg):
        cls = self.ns.get(msg["cls"])
        if cls is None:
            return {"results": [{"ok": False, "error": f"NameError: {msg['cls']} is not defined",
                                 "kind": "missing"}]}
        objs = {}
        results = []
        for step in msg["steps"]:
            method, args = step[0], list(step[1])
            k = step[2] if len(step) > 2 and type(step[2]) is int else 0
            if k not in objs:
                obj, err, kind, _, raised = self.guarded(cls, snapshot=False)
                if err is not None:
                    results.append({"ok": False, "error": err, "kind": kind, "raised": raised})
                    break
                objs[k] = obj
            # Looking the method up runs the student's code (a property, __getattr__):
            # guarded as the call is.
            obj = objs[k]
            m, err, kind, _, raised = self.guarded(lambda: getattr(obj, method, None),
                                                   snapshot=False)
            if err is not None:
                results.append({"ok": False, "error": err, "kind": kind, "raised": raised})
                break
            if m is None:
                results.append({"ok": False, "error": f"AttributeError: no method {method}",
                                "kind": "missing"})
                break
            originals = [_array(a, copy=True) if isinstance(a, _ndarray) else a for a in args]
            value, err, kind, warns, raised = self.guarded(lambda: m(*args), snapshot=False)
            if err is not None:
                results.append({"ok": False, "error": err, "kind": kind, "raised": raised})
                break
            modified = [_modified(o, a) for o, a in zip(originals, args)]
            results.append({"ok": True, "value": plain(value), "modified": modified,
                            "warnings": warns})
        return {"results": results}

    def op_timed(self, msg):
        """One lean call on the input this request carries: the grader
        measures the whole request (decoding the input included), so an input
        reaches student code only while it is being timed."""
        return self.call_one(msg["fn"], list(msg["args"]), check_inputs=False)

    def op_ping(self, msg):
        return {"ok": True}

    def op_secrets(self, msg):
        """The first request, before any student code: start the watch."""
        if self.watch is not None and not self._watching:
            self._watching = True
            self.watch.start(msg["paths"], own_classes=(Harness, Watch, CappedWriter))
        return {"ok": True, "notes_fd": getattr(self.watch, "notes_fd", None)}


def fit(reply):
    """`reply`, with its arrays replaced by a note if together they would
    exceed the grader's cap (the grader would kill this worker otherwise)."""
    def size(v):
        if isinstance(v, _ndarray):
            return v.size * 8 + ALIGN  # the widest whitelisted dtype, and its padding
        if isinstance(v, (list, tuple)):
            return sum(size(x) for x in v)
        if isinstance(v, dict):
            return sum(size(x) for x in v.values())
        return 0
    if size(reply) <= REPLY_BLOB_CAP:
        return reply

    def drop(v):
        if isinstance(v, _ndarray):
            return {"__bad__": f"array of shape {v.shape} (too large to send back)"[:200]}
        if isinstance(v, list):
            return [drop(x) for x in v]
        if isinstance(v, dict):
            return {k: drop(x) for k, x in v.items()}
        return v
    return drop(reply)


def main():
    # The protocol gets private descriptors and fd 0/1/2 become harmless, so
    # a stray print(..., file=sys.__stdout__) cannot break the wire. Code that
    # looks for the private ones can still write to them: the grader checks
    # every frame (FrameReader) and kills a worker that sends anything else.
    rfd, wfd, notes = os.dup(0), os.dup(1), os.dup(2)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    harness = Harness(Watch(notes))
    sys.stdout = sys.stderr = harness.out
    ops = {"exec": harness.op_exec, "check": harness.op_check, "call": harness.op_call,
           "layer": harness.op_layer,
           "timed": harness.op_timed, "ping": harness.op_ping,
           "secrets": harness.op_secrets}
    while True:
        try:
            msg_id, msg = read_message(rfd)
        except EOFError:
            return
        reply = ops[msg["op"]](msg)
        reply["output_bytes"] = harness.out.size
        reply["suspicious"] = list(harness.watch.seen)
        write_message(wfd, msg_id, fit(bounded(reply)))


if __name__ == "__main__":
    main()

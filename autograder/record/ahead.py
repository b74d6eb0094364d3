"""What an assignment makes alike for every run (its hidden inputs), kept between runs
beside its compiled code.

Made anew, the softmax assignment's hidden inputs cost ~50 ms of CPU, about a tenth of
grading one notebook; read back, ~10 ms. `kept` returns what `make()`
returns, read from `<folder>/__pycache__/<name>-<digest>.pickle` when that file was
written for the very same `sources` (their bytes), Python and NumPy; otherwise it calls
`make()` and writes the file for the next run (atomically; where the folder cannot be
written, as in a read-only install, it only makes). A file that cannot be read, or whose
value `valid` refuses, is made anew. The file is trusted as Python trusts the compiled
modules in the same `__pycache__` folder: whoever can write there can change the
grader's code already.
"""
from __future__ import annotations

import hashlib
import pickle
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

import numpy as np

from .store import atomic_write

T = TypeVar("T")


def digest(sources: Iterable[Path], key: str = "") -> str:
    """What the kept value depends on: the sources' names and bytes, `key` (what else it
    depends on, as text), Python and NumPy."""
    h = hashlib.sha256(f"{sys.version}\0{np.__version__}\0{pickle.HIGHEST_PROTOCOL}".encode())
    if key:
        h.update(b"key\0" + key.encode("utf-8", "surrogateescape") + b"\0")
    for path in sorted(Path(p) for p in sources):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def kept(*, folder: Path, name: str, sources: Iterable[Path], make: Callable[[], T],
         valid: Callable[[object], bool], key: str = "") -> T:
    """make()'s value, kept in `folder`/__pycache__ between runs (see the module); `key`:
    what else the value depends on, as text (digest)."""
    cache = Path(folder) / "__pycache__"
    path = cache / f"{name}-{digest(sources, key)}.pickle"
    try:
        # Read as a stream: no copy of the whole file beside the arrays made from it (~4 MB
        # of fresh pages, whose first touch is what a run's start pays most for).
        with open(path, "rb") as f:
            value = pickle.load(f)
    except Exception:  # noqa: BLE001 - missing, unreadable or from another pickle: made anew
        value = None
    if value is not None and valid(value):
        return value
    value = make()
    try:
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        atomic_write(path, data)
        for old in cache.glob(f"{name}-*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
    except (OSError, pickle.PicklingError):
        pass        # a folder this run cannot write: the next run makes it again
    return value


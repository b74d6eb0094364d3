"""matplotlib's font list, built once outside the jail, so importing pyplot inside needs nothing.

Without a font list in its config folder, `import matplotlib.pyplot` builds one: it
starts `fc-list` (a process, which the jail refuses and the watch notes as tampering)
and writes the list and a lock file (new files, which the jail refuses too). So the
list is built here, outside any jail, once per sandbox mode and worker Python: that
Python, a bare environment, a temporary config folder; then each jail gets it
read-only in its private config folder (`jail.MPL_DIR`). Inside, matplotlib then
reads it, starts nothing and writes nothing: the jail grants no new right for it.

Best effort: when the worker's Python has no matplotlib, or building fails, there is
no list and a jail is what it was (an import of pyplot fails inside it, as before).

Building takes about half a second (a Python, matplotlib's import, fc-list, reading
each font), which a one-student run would wait for before its first jail. So a list
built for the grader's own Python is kept between runs in the user's cache folder
(`cache_folder`), as matplotlib keeps its own: under a key naming that Python, its
matplotlib's font_manager.py and the system's font folders (their modification
times), and used again only while every font file it lists still exists. A font
installed since is then missing from the jail's list until fc-cache or a matplotlib
upgrade changes the key, as it would be from matplotlib's own cache.
"""
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

MAX_BYTES = 4 << 20         # a few hundred fonts take ~40 KB; a bound all the same
BUILD_TIMEOUT_S = 120


@dataclass(frozen=True)
class Fonts:
    """The font list matplotlib looks for: its file name (it carries matplotlib's
    FontManager version, `fontlist-v3.11.0.json`) and its bytes (JSON)."""
    name: str
    data: bytes

    def fd(self):
        """A fresh descriptor at offset 0 holding `data` (for bwrap --ro-bind-data);
        the caller passes it to the jail and closes it."""
        fd = os.memfd_create("fontlist")
        try:
            os.write(fd, self.data)     # a memfd takes it all at once
            os.lseek(fd, 0, os.SEEK_SET)
        except BaseException:
            os.close(fd)
            raise
        return fd


def build(python):
    """Fonts for `python` (built in a child process), or None when it cannot."""
    with tempfile.TemporaryDirectory(prefix="autograder-fonts-") as d:
        env = {"PATH": "/usr/bin:/bin", "HOME": d, "MPLCONFIGDIR": d, "LANG": "C.UTF-8",
               "MPLBACKEND": "Agg"}
        try:
            r = subprocess.run([python, "-I", "-c", "import matplotlib.font_manager"],
                               env=env, cwd=d, capture_output=True, timeout=BUILD_TIMEOUT_S)
        except (OSError, subprocess.SubprocessError):
            return None
        found = sorted(Path(d).glob("fontlist-*.json"))
        if r.returncode != 0 or len(found) != 1 or found[0].stat().st_size > MAX_BYTES:
            return None
        return Fonts(found[0].name, found[0].read_bytes())


# Folders whose modification time changes when system fonts are installed or removed.
FONT_FOLDERS = ("/var/cache/fontconfig", "/usr/share/fonts", "/usr/local/share/fonts")


def cache_folder():
    """Where built lists are kept between runs: $XDG_CACHE_HOME (else ~/.cache)/autograder."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "autograder" / "fontlists"


def _matplotlib():
    """The folder of this installation's matplotlib package (found, not imported), or None."""
    try:
        spec = importlib.util.find_spec("matplotlib")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    package = os.path.realpath(list(spec.submodule_search_locations)[0])
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix)}
    if not any(package.startswith(p.rstrip("/") + "/") for p in prefixes):
        return None
    return package


def cache_key(python):
    """A name for the list `python` would build, or None when it cannot be told without
    starting it: another Python than this one, or a matplotlib that its isolated start
    (`build`) may not see (none here, or one from outside this installation)."""
    package = _matplotlib() if python == sys.executable else None
    if package is None:
        return None
    parts = [python, sys.prefix]
    for path in [os.path.realpath(python), os.path.join(package, "font_manager.py"),
                 *FONT_FOLDERS]:
        try:
            st = os.stat(path)
        except OSError:
            parts.append(f"{path}:-")
            continue
        parts.append(f"{path}:{st.st_mtime_ns}:{st.st_size}")
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def _listed_files(data):
    """Every font file a list names, as written: its own fonts relative to its mpl-data
    (ValueError when it is not a list matplotlib wrote)."""
    listed = json.loads(data)
    if not isinstance(listed, dict):
        raise ValueError("not a font list")
    names = [f.get("fname") for key in ("ttflist", "afmlist")
             for f in listed.get(key) or () if isinstance(f, dict)]
    names += list((listed.get("defaultFont") or {}).values())
    if not all(isinstance(n, str) for n in names):
        raise ValueError("not a font list")
    return names


def load_cached(folder, key):
    """The Fonts kept under `key` in `folder`, or None (none kept, or one that names a font
    file that is gone: matplotlib would rebuild it, which it cannot do in a jail)."""
    if key is None:
        return None
    try:
        found = sorted((Path(folder) / key).glob("fontlist-*.json"))
        if len(found) != 1 or found[0].stat().st_size > MAX_BYTES:
            return None
        data = found[0].read_bytes()
        package = _matplotlib()
        if package is None or not all(os.path.exists(os.path.join(package, "mpl-data", n))
                                      for n in _listed_files(data)):
            return None
    except (OSError, ValueError):
        return None
    return Fonts(found[0].name, data)


def store(folder, key, fonts):
    """Keep `fonts` under `key` (atomically; a failure only means it is built again)."""
    if key is None or fonts is None:
        return
    target = Path(folder) / key
    try:
        target.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(fonts.data)
            for old in target.glob("fontlist-*.json"):
                if old.name != fonts.name:
                    old.unlink(missing_ok=True)
            os.replace(tmp, target / fonts.name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        pass


class FontLists:
    """One mode's font lists, one per worker Python: built in the background from
    `prefetch` (a grading run starts it when it activates the mode, so the build
    overlaps reading the submissions), or on first use."""

    def __init__(self, cache=None):
        """`cache`: the folder kept lists live in (default `cache_folder()`); False: none."""
        self.cache = cache_folder() if cache is None else cache
        self._built = {}
        self._threads = {}
        self._lock = threading.Lock()

    def prefetch(self, python):
        """Start building the list for `python` unless it is built or being built."""
        with self._lock:
            if python in self._threads:
                return
            thread = self._threads[python] = threading.Thread(
                target=self._build, args=(python,), daemon=True)
        thread.start()

    def _build(self, python):
        key = cache_key(python) if self.cache else None
        fonts = load_cached(self.cache, key)
        if fonts is None:
            fonts = build(python)
            store(self.cache, key, fonts)
        with self._lock:
            self._built[python] = fonts

    def get(self, python):
        """Fonts for `python`, or None; waits for a build under way."""
        self.prefetch(python)
        self._threads[python].join()
        return self._built.get(python)

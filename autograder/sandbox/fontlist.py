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
"""
import os
import subprocess
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


class FontLists:
    """One mode's font lists, one per worker Python: built in the background from
    `prefetch` (a grading run starts it when it activates the mode, so the build
    overlaps reading the submissions), or on first use."""

    def __init__(self):
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
        fonts = build(python)
        with self._lock:
            self._built[python] = fonts

    def get(self, python):
        """Fonts for `python`, or None; waits for a build under way."""
        self.prefetch(python)
        self._threads[python].join()
        return self._built.get(python)

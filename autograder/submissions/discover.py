"""Find the submissions in a folder: one Submission per student folder, whatever its name.

Layouts read (`grade --help` lists them; NAME is the assignment's notebook name):
  SUBMISSIONS/<student>/NAME.ipynb             what students upload
  SUBMISSIONS/<student>/NAME/NAME.ipynb        nbgrader's submitted/ layout
  SUBMISSIONS/<student>/<other>.ipynb          the only notebook, under another name
  COURSE_ROOT/submitted/<student>/NAME/NAME.ipynb
                                               an nbgrader course root (detected: its
                                               nbgrader_config.py, or nbgrader's layout)

Every entry of SUBMISSIONS that is a folder or a symbolic link is a student
(only a `.ipynb_checkpoints` holding nothing but Jupyter's checkpoints is skipped, with a
line on stderr): `a,b`, `.hidden`, `-x` or a
name with a newline each get their row. A student id is the folder's name as
it is; bytes that are not UTF-8 are shown as `\\xNN`. Discovery only looks
(lstat through directory fds, never following a link); a link, a FIFO, an
unreadable folder or an oversized notebook is recorded here as that
student's flag and problem, and `reader` refuses the same things again when
the file is opened.
"""
import os
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path

from autograder.model import Flag
from autograder.untrusted import terminal

from . import reader

SKIPPED = {".ipynb_checkpoints"}


class UsageError(Exception):
    """Bad command-line input: shown as one line, exit status 2."""


@dataclass(frozen=True)
class Submission:
    student_id: str                 # the folder's name, as shown and recorded
    root: Path | None = None               # the folder holding the student folders
    parts: tuple | None = None             # entry names from root to the notebook; None: none found
    flag: str = ""                  # set when discovery already refused the submission
    problem: str = ""               # one line for the student's row
    folder: str | None = field(default=None, compare=False)   # the folder's entry name on disk

    @property
    def notebook(self):
        """Path of a notebook that looked like a readable regular file, else None.

        For display, and for tools that copy it. Read it through `read_bytes`
        (no link followed, bounded), not by opening this path."""
        if self.parts is None or self.root is None or self.flag:
            return None
        return Path(self.root, *self.parts)

    def read_bytes(self):
        """(bytes, sha256) of the notebook; raises reader.Refused."""
        if self.flag:
            raise reader.Refused(self.flag, self.problem, f"refused:{self.flag}")
        if self.parts is None:
            raise reader.Refused(Flag.MISSING_NOTEBOOK, self.problem, "")
        return reader.read_bytes(self.root, self.parts)

    def sha256(self):
        """The cache key: the notebook's sha256, '' when missing, a marker when refused."""
        if self.flag:
            return f"refused:{self.flag}:{self.problem}"
        if self.parts is None:
            return ""
        return reader.sha256_of(self.root, self.parts)


def display_name(entry_name):
    """The folder name as text: undecodable bytes become \\xNN escapes."""
    return os.fsencode(entry_name).decode("utf-8", "backslashreplace")


def _lstat(dir_fd, name):
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError:
        return None


def _classify(dir_fd, name, parts, label):
    """(parts, flag, problem) for the notebook entry `name` in dir_fd."""
    st = _lstat(dir_fd, name)
    if st is None:
        return None, Flag.MISSING_NOTEBOOK, f"{label} disappeared while the grader looked"
    if stat.S_ISLNK(st.st_mode):
        return parts, Flag.SYMLINK, reader.symlink_problem(label)
    if not stat.S_ISREG(st.st_mode):
        return parts, Flag.INVALID_NOTEBOOK, reader.special_file_problem(label, st.st_mode)
    if st.st_size > reader.MAX_BYTES:
        return parts, Flag.INVALID_NOTEBOOK, reader.too_large_problem(label, st.st_size)
    return parts, "", ""


def _entries(fd, wanted, limit=5):
    """The names in `wanted` that the folder holds, plus up to `limit` other *.ipynb
    (sorted) and how many there are: a folder of a million files costs no memory."""
    found, n = set(), 0
    notebooks: list[str] = []
    with os.scandir(fd) as it:
        for e in it:
            if e.name in wanted:
                found.add(e.name)
            elif e.name.endswith(".ipynb"):
                n += 1
                if len(notebooks) < limit:
                    notebooks.append(e.name)
    return found, sorted(notebooks), n


def _find_in_folder(root, folder, name):
    """(parts, flag, problem) of the notebook in the student folder `folder`."""
    try:
        fd = reader.open_nofollow(root, (folder,), "the student folder", directory=True)
    except reader.Refused as r:
        return None, r.flag, r.problem
    except OSError as e:
        return None, Flag.INVALID_NOTEBOOK, f"the student folder could not be opened ({e.strerror})"
    try:
        target = f"{name}.ipynb"
        try:
            entries, others, n_others = _entries(fd, {target, name})
        except OSError as e:
            return None, Flag.INVALID_NOTEBOOK, f"the student folder cannot be listed ({e.strerror})"
        if target in entries:
            return _classify(fd, target, (folder, target), f"{target}")
        if name in entries:
            st = _lstat(fd, name)
            if st is not None and stat.S_ISLNK(st.st_mode):
                return (folder, name), Flag.SYMLINK, (f"the folder {name}/ is a symbolic link; the "
                                                  "grader does not follow links: 0 points")
            if st is not None and stat.S_ISDIR(st.st_mode):
                try:
                    sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
                                  | os.O_CLOEXEC, dir_fd=fd)
                except OSError as e:
                    return None, Flag.INVALID_NOTEBOOK, (f"the folder {name}/ cannot be opened "
                                                      f"({e.strerror})")
                try:
                    if target in _entries(sub, {target})[0]:
                        return _classify(sub, target, (folder, name, target), f"{name}/{target}")
                except OSError as e:
                    return None, Flag.INVALID_NOTEBOOK, (f"the folder {name}/ cannot be listed "
                                                      f"({e.strerror})")
                finally:
                    os.close(sub)
        if n_others == 1:
            # One notebook under another name ("softmax (1).ipynb") is still theirs.
            label = terminal(display_name(others[0]))
            return _classify(fd, others[0], (folder, others[0]), label)
        if others:
            shown = ", ".join(terminal(display_name(o)) for o in others[:4])
            return None, Flag.MISSING_NOTEBOOK, (f"no {target} in the folder, and {n_others} other "
                                              f"notebooks ({shown}): which one is the submission?")
        return None, Flag.MISSING_NOTEBOOK, f"no {target} was found in the submission"
    finally:
        os.close(fd)


def _is_dir(path):
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


NBGRADER_FOLDERS = {"submitted", "autograded", "feedback", "source", "release", "exchange",
                    ".nbgrader", ".ipynb_checkpoints"}


def _holds_notebook(folder, name):
    """The folder has <name>.ipynb or <name>/<name>.ipynb (never following a link)."""
    nb = f"{name}.ipynb"
    return _is_file(folder / nb) or _is_file(folder / name / nb)


def _is_file(path):
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _listdir(path):
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


NBGRADER_CONFIG = "nbgrader_config.py"
MAX_CONFIG_BYTES = 1 << 20


def _configured_submitted(config):
    """CourseDirectory.submitted_directory as nbgrader_config.py sets it, else nbgrader's
    default `submitted`. The file is parsed, never run: only a plain string assigned to
    `c.CourseDirectory.submitted_directory` counts, and only a relative path inside the
    course (no `..`)."""
    import ast
    try:
        tree = ast.parse(config)
    except (SyntaxError, ValueError):
        return "submitted"
    found = "submitted"
    for node in ast.walk(tree):
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
                and any(ast.unparse(t).endswith("CourseDirectory.submitted_directory")
                        for t in node.targets)):
            found = node.value.value
    parts = Path(found).parts
    if not parts or Path(found).is_absolute() or ".." in parts:
        return "submitted"
    return found


def _nbgrader_config(root):
    """The text of root/nbgrader_config.py when it is a regular file (not a link), else None."""
    path = Path(root) / NBGRADER_CONFIG
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_CONFIG_BYTES:
            return None
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as f:
            return f.read(MAX_CONFIG_BYTES).decode("utf-8", "replace")
    except OSError:
        return None


def detect_layout(root, name):
    """(folder of student folders, description): the submitted folder of an nbgrader course.

    An nbgrader course is recognised the way nbgrader recognises one: a
    regular file `nbgrader_config.py` in `root` (an instructor's course checkout:
    `grade .` after `nbgrader collect`). Its `CourseDirectory.submitted_directory`
    (default `submitted`) holds the students, and nothing else in the course
    (`.git`, `.venv`, `solutions/`, ...) is one; a course with no such folder yet
    is a UsageError.

    Without that file, only nbgrader's own layout counts as evidence
    (submitted/<student>/<name>/<name>.ipynb), never folder names alone: students
    called `submitted`, `source` or `feedback` are students. And a folder beside
    submitted/ that holds a notebook itself makes `root` a folder of student
    folders, so no upload shaped like a course hides the others.
    """
    root = Path(root)
    nb = f"{name}.ipynb"
    config = _nbgrader_config(root)
    if config is not None:
        folder = _configured_submitted(config)
        sub = root / folder
        if not _is_dir(sub):
            raise UsageError(f"{root} is an nbgrader course ({NBGRADER_CONFIG}) with no "
                             f"{folder}/ folder: run `nbgrader collect {name}` first, or pass "
                             "the folder that holds one folder per student")
        return sub, f"nbgrader course root ({NBGRADER_CONFIG}): {sub}/<student>/{name}/{nb}"
    sub = root / "submitted"
    plain = (root, f"{root}/<student>/{nb}")
    if not _is_dir(sub) or _holds_notebook(sub, name):
        return plain
    if not any(_is_file(sub / s / name / nb) for s in _listdir(sub)):
        return plain
    if any(_is_dir(root / d) and _holds_notebook(root / d, name)
           for d in _listdir(root) if d not in NBGRADER_FOLDERS):
        return plain
    return sub, f"nbgrader course root: {sub}/<student>/{name}/{nb}"


def enclosing_course(folder, levels=2):
    """The nbgrader course root that holds `folder` (its submitted/ folder given instead of
    the root, or a student's folder in it), or None: the nearest parent, `levels` up at
    most, with a regular file nbgrader_config.py. Its source/ (the solutions), release/,
    gradebook.db and every other student's feedback live there, beside the submissions."""
    for parent in list(Path(folder).resolve().parents)[:levels]:
        if _nbgrader_config(parent) is not None:
            return parent
    return None


def _only_checkpoints(root, entry):
    """Jupyter's own checkpoint folder: nothing in it but *-checkpoint.ipynb files."""
    names = _listdir(root / entry)
    return all(n.endswith("-checkpoint.ipynb") and _is_file(root / entry / n) for n in names)


@dataclass(frozen=True)
class Found:
    """What `find` found: `root`, the folder of student folders (the folder given, or the
    submitted/ folder of the course it is); `layout`, one line saying which layout was
    read; `submissions`, one Submission per student folder, sorted by student id."""
    root: Path
    layout: str
    submissions: list


def find(root, name):
    """The submissions in `root` (or in its submitted/, for a course root), with the layout
    detected once (detect_layout); UsageError (one line) when there are none."""
    root = Path(root)
    if not root.exists():
        raise UsageError(f"no such folder: {root}")
    if not root.is_dir():
        raise UsageError(f"not a folder: {root} (pass the folder that holds one folder "
                         "per student)")
    root, layout = detect_layout(root, name)
    try:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            with os.scandir(fd) as it:
                entries = sorted((e.name, e.is_symlink(), e.is_dir(follow_symlinks=False))
                                 for e in it)
        finally:
            os.close(fd)
    except OSError as e:
        raise UsageError(f"cannot list {root}: {e.strerror}") from None

    subs, seen = [], set()
    for entry, is_link, is_dir in entries:
        if not (is_link or is_dir):
            continue
        if entry in SKIPPED and is_dir and _only_checkpoints(root, entry):
            print(f"skipped {root / entry}: Jupyter's checkpoint folder, no student's",
                  file=sys.stderr)
            continue
        sid = display_name(entry)
        while sid in seen:        # only undecodable names can collide with a real one
            sid += "~"
        seen.add(sid)
        if is_link:
            subs.append(Submission(sid, root, None, Flag.SYMLINK,
                                   "the student folder is a symbolic link; the grader does not "
                                   "follow links: 0 points", folder=entry))
            continue
        parts, flag, problem = _find_in_folder(root, entry, name)
        subs.append(Submission(sid, root, parts, flag, problem, folder=entry))
    if not subs:
        raise UsageError(f"no submissions in {root}: expected {root}/<student_id>/{name}.ipynb")
    subs.sort(key=lambda s: s.student_id)
    return Found(root, layout, subs)

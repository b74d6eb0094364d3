"""A student's graded result, stored as JSON, written atomically.

Results are the pipeline's currency: the runner makes them, the gradebook
and the reports only read them. A stored result is reused when the notebook
bytes and the grader are unchanged, so an interrupted batch resumes; never
one whose problem is an internal error of the grader (that is retried).

Student ids are kept as they are in results; every file name made from one
goes through `safe_name` (plain ids unchanged, others escaped and hashed) and
`inside`, which refuses a path that would leave OUT.
"""
import hashlib
import json
import os
import re
import tempfile
import urllib.parse
from dataclasses import asdict, dataclass, field
from pathlib import Path

from autograder.untrusted import valid_tree

FLAGS = ("timeout", "memory", "crash", "invalid_notebook", "missing_notebook",
         "tampering", "output_truncated", "symlink",
         "no_submission")   # a --roster student with no folder (reports/lms.py)
_PLAIN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}\Z")


def safe_name(student_id):
    """A file name for `student_id`: stable, collision-free, never a path.

    A plain id (letters, digits, `._@+-`, not starting with a symbol) is its
    own name, as before; any other becomes `_<percent-escaped, cut>~<hash>`,
    which no plain id can be (it starts with `_` and holds `~`).
    """
    if _PLAIN_ID.match(student_id):
        return student_id
    quoted = urllib.parse.quote(student_id, safe="")[:60]
    digest = hashlib.sha256(student_id.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"_{quoted}~{digest}"


def inside(out, *parts):
    """Path(out, *parts), refused (ValueError) unless it stays inside `out`."""
    base = Path(out).resolve()
    path = base.joinpath(*parts).resolve()
    if path != base and base not in path.parents:
        raise ValueError(f"refusing to write outside {base}: {path}")
    return path


# Where a flag was first raised (StudentResult.raised): while the notebook was read,
# before any student code ran; while the student's cells first ran, before any check;
# else the grade_id of the test whose check was running. What it may reveal, and so
# when a student may see it, follows from there (see autograder.visibility).
READING = "reading"
STARTUP = "startup"


@dataclass
class TestResult:
    __test__ = False   # not a pytest test class

    grade_id: str
    points: float
    max_points: float
    passed: bool
    message: str = ""
    mistake: str | None = None
    hint: str | None = None
    internal: bool = False      # the grader failed on this test: not the student's result
    settled: bool = False       # decided before any student code ran (no notebook, edited cell)


@dataclass
class NotebookCheck:
    """The checks of one graded test cell as the student's notebook has them (its
    asserts, what the check cell and Validate show), run in a jail of their own
    that never receives a hidden input (see autograder.check.notebook_checks)."""
    grade_id: str
    passed: bool
    message: str = ""


@dataclass
class StudentResult:
    student_id: str
    notebook_sha256: str
    grader: str
    tests: list = field(default_factory=list)
    flags: list = field(default_factory=list)
    problem: str = ""
    timings: dict = field(default_factory=dict)   # seconds per phase, for `make bench`
    raised: dict = field(default_factory=dict)    # flag -> READING, STARTUP or a grade_id
    notebook_checks: list = field(default_factory=list)   # NotebookCheck, when run
    notebook_flags: list = field(default_factory=list)    # flags of their own jail
    unavailable: dict = field(default_factory=dict)  # name -> why the grader does not run it
    # The grader's own machinery failed on the whole row (`problem` says how). Declared,
    # never read from `problem`: a student's text there (a notebook's format field) could
    # say "internal error" too.
    internal: bool = False

    @property
    def internal_error(self):
        """True when the grader failed on some test (the result is not to be reused)."""
        return self.internal or any(t.internal for t in self.tests)

    @property
    def score(self):
        return round(sum(t.points for t in self.tests), 6)

    @property
    def max_score(self):
        return round(sum(t.max_points for t in self.tests), 6)

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, d):
        d = dict(d)
        d["tests"] = [TestResult(**t) for t in d.get("tests", [])]
        d["notebook_checks"] = [NotebookCheck(**c) for c in d.get("notebook_checks", [])]
        return cls(**d)


def file_sha256(path):
    """sha256 of a notebook file, read as `reader` reads it (no link, bounded);
    '' when there is none, a marker when it is refused."""
    if path is None or not os.path.lexists(path):
        return ""
    from autograder.submissions.reader import sha256_of
    path = Path(path)
    try:
        return sha256_of(path.parent, (path.name,))
    except OSError:
        return ""


def grader_files(spec_files):
    """The files a stored grade depends on: the autograder package's Python files (the
    core, the sandbox's worker, every assignment's checks and reference) and the
    assignment's own files. Development tools (dev/, bench/, the attack samples under
    tests/) live outside the package, so editing them keeps every stored grade."""
    here = Path(__file__).resolve().parents[1]     # the autograder package
    return sorted(here.rglob("*.py")) + list(spec_files)


def grader_fingerprint(spec_files):
    """Changes whenever the checks, reference, worker or notebooks change."""
    h = hashlib.sha256()
    for f in grader_files(spec_files):
        h.update(str(f).encode())
        h.update(Path(f).read_bytes())
    return h.hexdigest()[:16]


def atomic_write(path, data):
    """Write bytes or text so a reader sees the old file or the new one, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class ResultStore:
    """OUT/results/<student_id>.json, one file per student."""

    def __init__(self, out):
        self.dir = Path(out) / "results"

    def path(self, student_id):
        return inside(self.dir, f"{safe_name(student_id)}.json")

    def load(self, student_id, sha, grader):
        p = self.path(student_id)
        try:
            # A door for student text (see untrusted.py): what was stored is made valid again.
            r = StudentResult.from_dict(valid_tree(json.loads(p.read_text(encoding="utf-8"))))
        except (OSError, ValueError, TypeError, KeyError):
            return None
        if r.internal_error:
            return None       # the grader failed, not the student: grade again
        return r if (r.notebook_sha256 == sha and r.grader == grader) else None

    def save(self, result):
        atomic_write(self.path(result.student_id),
                     json.dumps(result.to_dict(), indent=1, sort_keys=True))

"""A student's graded result, stored as JSON, written atomically.

Results are the pipeline's currency: the runner makes them, the gradebook
and the reports only read them. A stored result is reused when the notebook
bytes and the grader are unchanged, so an interrupted batch resumes.
"""
import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

FLAGS = ("timeout", "memory", "crash", "invalid_notebook", "missing_notebook",
         "tampering", "output_truncated")


@dataclass
class TestResult:
    __test__ = False   # not a pytest test class

    grade_id: str
    points: float
    max_points: float
    passed: bool
    message: str = ""
    mistake: str = None
    hint: str = None


@dataclass
class StudentResult:
    student_id: str
    notebook_sha256: str
    grader: str
    tests: list = field(default_factory=list)
    flags: list = field(default_factory=list)
    problem: str = ""
    timings: dict = field(default_factory=dict)   # seconds per phase, for `make bench`

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
        return cls(**d)


def file_sha256(path):
    if path is None or not Path(path).is_file():
        return ""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def grader_fingerprint(spec_files):
    """Changes whenever the checks, reference, worker or notebooks change."""
    here = Path(__file__).parent
    files = sorted(here.rglob("*.py")) + list(spec_files)
    h = hashlib.sha256()
    for f in files:
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
        return self.dir / f"{student_id}.json"

    def load(self, student_id, sha, grader):
        p = self.path(student_id)
        try:
            r = StudentResult.from_dict(json.loads(p.read_text()))
        except (OSError, ValueError, TypeError, KeyError):
            return None
        return r if (r.notebook_sha256 == sha and r.grader == grader) else None

    def save(self, result):
        atomic_write(self.path(result.student_id),
                     json.dumps(result.to_dict(), indent=1, sort_keys=True))

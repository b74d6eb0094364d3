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
from collections.abc import Iterable
from pathlib import Path

from autograder.model import StudentResult
from autograder.untrusted import valid_tree

_PLAIN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}\Z")


def safe_name(student_id: str) -> str:
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


def inside(out: str | Path, *parts: str) -> Path:
    """Path(out, *parts), refused (ValueError) unless it stays inside `out`."""
    base = Path(out).resolve()
    path = base.joinpath(*parts).resolve()
    if path != base and base not in path.parents:
        raise ValueError(f"refusing to write outside {base}: {path}")
    return path


def file_sha256(path: str | Path | None) -> str:
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


def grader_files(spec_files: Iterable[Path]) -> list[Path]:
    """The files a stored grade depends on: the autograder package's Python files (the
    core, the sandbox's worker, every assignment's checks and reference) and the
    assignment's own files. Development tools (dev/, bench/, the attack samples under
    tests/) live outside the package, so editing them keeps every stored grade."""
    here = Path(__file__).resolve().parents[1]     # the autograder package
    return sorted(here.rglob("*.py")) + list(spec_files)


def grader_fingerprint(spec_files: Iterable[Path]) -> str:
    """Changes whenever the checks, reference, worker or notebooks change."""
    h = hashlib.sha256()
    for f in grader_files(spec_files):
        h.update(str(f).encode())
        h.update(Path(f).read_bytes())
    return h.hexdigest()[:16]


def atomic_write(path: str | Path, data: str | bytes) -> None:
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

    def __init__(self, out: str | Path) -> None:
        self.dir = Path(out) / "results"

    def path(self, student_id: str) -> Path:
        return inside(self.dir, f"{safe_name(student_id)}.json")

    def load(self, student_id: str, sha: str, grader: str) -> StudentResult | None:
        """The stored result, when it was graded from notebook bytes of sha256 `sha` by the
        grader of fingerprint `grader` and not spoiled by a grader failure; else None."""
        p = self.path(student_id)
        try:
            # A door for student text (see untrusted.py): what was stored is made valid again.
            r = StudentResult.from_dict(valid_tree(json.loads(p.read_text(encoding="utf-8"))))
        except (OSError, ValueError, TypeError, KeyError):
            return None
        if r.internal_error:
            return None       # the grader failed, not the student: grade again
        return r if (r.notebook_sha256 == sha and r.grader == grader) else None

    def save(self, result: StudentResult) -> None:
        atomic_write(self.path(result.student_id),
                     json.dumps(result.to_dict(), indent=1, sort_keys=True))

"""Regenerate the student release (assignments/) from solutions/ with nbgrader.

Every release's test-cell checksums are kept in the assignment's
`released_checksums` file, JSON `{test id: [checksum, ...]}` (oldest first),
so a submission made from any released version of a test cell is accepted;
`regenerate` says which test cells changed.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder.submissions import nbcells as cells
from autograder.assignment import get
from autograder.record.store import atomic_write

# The grader's rule of what runs from a notebook (definitions.py: pure standard library,
# no secret), shipped beside every release notebook so that its check cells can tell the
# student, before submitting, about a name the grader will not have. `regenerate` keeps
# the copy identical to the grader's own.
RULES = Path(__file__).resolve().parents[1] / "submissions" / "definitions.py"
RULES_COPY = "grader_definitions.py"


def _course(assignment=None):
    """(name, course root): the source notebook is <root>/solutions/<name>/<name>.ipynb."""
    a = assignment or get()
    return a.name, a.source.parents[2]


def generate(release_dir, assignment=None):
    """Run `nbgrader generate_assignment` into release_dir; returns its folder."""
    name, root = _course(assignment)
    # nbgrader shells out to `alembic`: it lives beside this Python.
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "nbgrader", "generate_assignment", name, "--force",
             "--log-level=WARN",
             f"--CourseDirectory.root={root}",
             f"--CourseDirectory.release_directory={release_dir}",
             f"--CourseDirectory.db_url=sqlite:///{tmp}/gradebook.db"],
            cwd=root, check=True, env=env)
    return Path(release_dir) / name


def test_checksums(notebook):
    """{test id: nbgrader checksum} of the graded cells of a released notebook."""
    if not Path(notebook).exists():
        return {}
    with open(notebook, encoding="utf-8") as f:
        nb = json.load(f)
    return {cells.grade_id(c): cells.checksum(c) for c in nb["cells"] if cells.is_grade(c)}


def load_history(path):
    """{test id: [checksum, ...]} of every release recorded at path (empty if none)."""
    if not path or not Path(path).exists():
        return {}
    with open(path, encoding="utf-8") as f:
        return {k: list(v) for k, v in json.load(f).items()}


def record_release(history_path, *releases):
    """Add the checksums of each release ({test id: checksum}) to the history file."""
    history = load_history(history_path)
    for release in releases:
        for gid, checksum in release.items():
            known = history.setdefault(gid, [])
            if checksum and checksum not in known:
                known.append(checksum)
    atomic_write(history_path, json.dumps(history, indent=1, sort_keys=True) + "\n")
    return history


def describe_changes(before, after):
    """Lines saying which test cells a new release adds, removes or changes."""
    lines = []
    for gid in after:
        if gid not in before:
            lines.append(f"new test cell {gid}")
        elif before[gid] != after[gid]:
            lines.append(f"test cell {gid} changed: submissions made from the earlier "
                         "version stay accepted (not flagged as tampering)")
    lines += [f"test cell {gid} removed" for gid in before if gid not in after]
    return lines


def regenerate(assignment=None):
    """Replace assignments/<name> with a fresh release (no stale files left)."""
    a = assignment or get()
    name, root = _course(a)
    target = root / "assignments" / name
    before = test_checksums(target / f"{name}.ipynb")
    copy = a.source.parent / RULES_COPY
    if not copy.exists() or copy.read_bytes() != RULES.read_bytes():
        shutil.copyfile(RULES, copy)
        print(f"updated {copy.relative_to(root)} from the grader's {RULES.name}")
    with tempfile.TemporaryDirectory() as tmp:
        built = generate(tmp, a)
        after = test_checksums(built / f"{name}.ipynb")
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(built, target)
    print(f"regenerated {target.relative_to(root)}")
    if a.released_checksums is not None:
        # The release being replaced was handed out too: keep its checksums.
        record_release(a.released_checksums, before, after)
        changes = describe_changes(before, after)
        for line in changes or ["no test cell changed since the previous release"]:
            print(line)
        where = a.released_checksums
        where = where.relative_to(root) if where.is_relative_to(root) else where
        print(f"recorded the test-cell checksums of this release in {where}")

"""Regenerate the student release (assignments/) from solutions/ with nbgrader."""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .assignment import get


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


def regenerate(assignment=None):
    """Replace assignments/<name> with a fresh release (no stale files left)."""
    name, root = _course(assignment)
    target = root / "assignments" / name
    with tempfile.TemporaryDirectory() as tmp:
        built = generate(tmp, assignment)
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(built, target)
    print(f"regenerated {target.relative_to(root)}")

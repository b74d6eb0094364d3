"""Regenerate the student release (assignments/) from solutions/ with nbgrader."""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .assignment import NAME, REPO


def generate(release_dir):
    """Run `nbgrader generate_assignment` into release_dir; returns its folder."""
    # nbgrader shells out to `alembic`: it lives beside this Python.
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "nbgrader", "generate_assignment", NAME, "--force",
             "--log-level=WARN",
             f"--CourseDirectory.root={REPO}",
             f"--CourseDirectory.release_directory={release_dir}",
             f"--CourseDirectory.db_url=sqlite:///{tmp}/gradebook.db"],
            cwd=REPO, check=True, env=env)
    return Path(release_dir) / NAME


def regenerate():
    """Replace assignments/<name> with a fresh release (no stale files left)."""
    target = REPO / "assignments" / NAME
    with tempfile.TemporaryDirectory() as tmp:
        built = generate(tmp)
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(built, target)
    print(f"regenerated {target.relative_to(REPO)}")

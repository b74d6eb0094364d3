import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run_grader(*args, timeout=900):
    """`python -m autograder ...` as an instructor runs it: venv python, not activated."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV",)}
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p != venv_bin) or "/usr/bin:/bin"
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, cwd=REPO, env=env)


def read_grades(out):
    with open(Path(out) / "grades.csv", newline="") as f:
        return {row["student_id"]: row for row in csv.DictReader(f)}


@pytest.fixture
def grade(tmp_path):
    def _grade(subs, *extra):
        out = tmp_path / f"out-{Path(subs).name}"
        r = run_grader("grade", subs, "--out", out, "--no-progress", "--timeout", "8", *extra)
        assert r.returncode == 0, r.stderr[-3000:]
        return out, read_grades(out), r
    return _grade

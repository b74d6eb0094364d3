"""Find the submissions in a folder.

Accepted layouts, per student folder:
  SUBMISSIONS/<student_id>/<name>.ipynb            (what students upload)
  SUBMISSIONS/<student_id>/<name>/<name>.ipynb     (nbgrader's submitted/)
A student folder without the notebook still gets a row (missing_notebook).
"""
import re
from dataclasses import dataclass
from pathlib import Path

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$")


class UsageError(Exception):
    """Bad command-line input: shown as one line, exit status 2."""


@dataclass(frozen=True)
class Submission:
    student_id: str
    notebook: Path = None     # None when the student folder has no notebook


def find_notebook(folder, name):
    for candidate in (folder / f"{name}.ipynb", folder / name / f"{name}.ipynb"):
        if candidate.is_file():
            return candidate
    # One notebook under another name ("<name> (1).ipynb") is still theirs.
    others = [p for p in folder.glob("*.ipynb") if p.is_file()]
    if len(others) == 1:
        return others[0]
    return None


def find_submissions(root, name):
    root = Path(root)
    if not root.exists():
        raise UsageError(f"no such folder: {root}")
    if not root.is_dir():
        raise UsageError(f"not a folder: {root} (pass the folder that holds one folder per student)")
    subs = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if not STUDENT_ID.match(folder.name):
            continue
        subs.append(Submission(folder.name, find_notebook(folder, name)))
    if not subs:
        raise UsageError(f"no submissions in {root}: expected {root}/<student_id>/{name}.ipynb")
    return subs

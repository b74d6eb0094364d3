"""Before you submit: does an exercise use a name the grader will not have?

When grading, your exercise cells run again in a fresh Python, with only the
*definitions* of your other cells (imports, functions, classes, constants written as
values): not the code that does work (loading data, training, plotting). So an
exercise that uses, say, `dtype = X_train.dtype` from another cell passes here and
fails when graded. `check_submission("softmax")`, in the check cells, reads this
notebook as last saved and runs the grader's own rule on it (grader_definitions.py,
a copy of it): it raises AssertionError naming each such name, the cell that sets it
and what to do, so that the check cell and Validate fail before you submit.
"""
import json
import re
import textwrap
from pathlib import Path

from grader_definitions import plan, uses

# Cell magics whose body IPython runs in the notebook (what it defines is kept).
_BODY_KEPT = ("time", "capture", "prun")


def _source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _nbgrader(cell):
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def _plain(source):
    """A cell as Python for the analysis: the body of `%%time`/`%%capture`/`%%prun`, no
    other cell magic; magic and shell lines are no statement (as the grader reads them)."""
    lines = source.splitlines()
    pad = 0
    while lines and lines[0].startswith("%%"):
        if lines[0][2:].split(" ")[0] not in _BODY_KEPT:
            return ""
        lines, pad = lines[1:], pad + 1
    body = "\n" * pad + "\n".join(lines)
    return re.sub(r"^([ \t]*)[!%].*$", r"\1pass", body, flags=re.M)


def _notebooks(name):
    """Notebooks in the working folder with an exercise cell `name`, newest first."""
    found = []
    for path in Path.cwd().glob("*.ipynb"):
        try:
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if any(_nbgrader(c).get("grade_id") == name and _nbgrader(c).get("solution")
               for c in cells):
            found.append((path.stat().st_mtime, path, cells))
    return [(p, c) for _, p, c in sorted(found, key=lambda f: f[0], reverse=True)]


def unavailable(name, cells):
    """{name: why} for each name the exercise cell `name` uses that the grader will not
    have, from the notebook's cells (nbformat 4, as plain dicts)."""
    exercise, candidates, tests = None, [], []
    for i, cell in enumerate(cells, 1):
        if cell.get("cell_type") != "code":
            continue
        meta = _nbgrader(cell)
        if meta.get("solution") and meta.get("grade_id") == name:
            exercise = _plain(_source(cell))
        elif meta.get("grade"):
            tests.append((f"#{i}", _plain(_source(cell))))
        elif not meta.get("solution"):
            candidates.append((f"#{i}", _plain(_source(cell))))
    if exercise is None:
        return {}
    prelude, lacking = plan(candidates, [exercise], test_cells=tests)
    # The names the exercise, or a definition it runs with, reads (not the names those
    # names were computed from: `X_train` behind `dtype = X_train.dtype`).
    read = set(uses(exercise)).union(*(uses(piece) for _, piece in prelude))
    return {n: why for n, why in lacking.items() if n in read}


def check_submission(name):
    """Raise AssertionError when exercise `name` uses a name the grader will not have.

    Reads the notebook holding that exercise in the working folder, as last saved;
    does nothing when there is none (the grader's own copy of a check cell)."""
    notebooks = _notebooks(name)
    if not notebooks:
        return
    path, cells = notebooks[0]
    missing = unavailable(name, cells)
    if missing:
        raise AssertionError(
            f"{name} works here but not when graded ({path.name} as last saved):\n"
            + "\n".join(textwrap.fill(why, 160) for why in missing.values())
            + "\n(After a change, save the notebook and run this cell again.)")

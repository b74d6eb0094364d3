"""Read one submitted notebook: the code to run, and any tampering.

Only the six solution cells are taken from a submission, by grade_id; test
cells are never run from it. A test cell that was edited, deleted,
re-labelled or duplicated is tampering: that test earns nothing.
"""
import json
from dataclasses import dataclass, field

import nbformat
from .cells import checksum as compute_checksum

MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024


@dataclass
class StudentCode:
    cells: list = field(default_factory=list)       # [(solution id, python source)]
    tampered: dict = field(default_factory=dict)    # test id -> what was done to it
    flags: set = field(default_factory=set)
    problem: str = ""                               # why nothing could be read


def _python_source(source):
    """Cell text as plain Python: IPython magics become harmless calls."""
    from IPython.core.inputtransformer2 import TransformerManager
    try:
        return TransformerManager().transform_cell(source)
    except Exception:   # noqa: BLE001 - leave it to the worker to report the SyntaxError
        return source


def _checksum(cell):
    try:
        return compute_checksum(cell)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def read_submission(path, spec):
    """StudentCode for the notebook at `path` (which may be missing or broken)."""
    code = StudentCode()
    if path is None:
        code.flags.add("missing_notebook")
        code.problem = f"no {spec.name}.ipynb was found in the submission"
        return code
    try:
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            raise ValueError("the file is larger than 50 MB")
        nb = nbformat.read(str(path), as_version=4)
        cells = list(nb.cells)
    except (OSError, ValueError, json.JSONDecodeError, nbformat.reader.NotJSONError,
            AttributeError, TypeError, KeyError, UnicodeDecodeError) as e:
        code.flags.add("invalid_notebook")
        code.problem = f"the notebook could not be read ({type(e).__name__}: {str(e)[:120]})"
        return code

    by_id = {}
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader")
        if isinstance(meta, dict) and isinstance(meta.get("grade_id"), str):
            by_id.setdefault(meta["grade_id"], []).append(cell)

    for sid in spec.solution_ids:
        found = [c for c in by_id.get(sid, []) if c.get("cell_type") == "code"]
        if found:
            # A copy-pasted cell keeps its grade_id; run top to bottom, the
            # last definition is the one the student's kernel would hold.
            code.cells.append((sid, _python_source(str(found[-1].get("source", "")))))

    for test in spec.tests:
        found = by_id.get(test.grade_id, [])
        if not found:
            code.tampered[test.grade_id] = "the test cell was deleted or re-labelled"
        elif not any(_checksum(c) in test.checksums for c in found):
            code.tampered[test.grade_id] = "the test cell was edited"
    if code.tampered:
        code.flags.add("tampering")
    return code

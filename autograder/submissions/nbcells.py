"""nbgrader's cell metadata, read from plain notebook JSON.

The same answers as `nbgrader.utils` (is_grade, is_solution, is_locked,
compute_checksum), without importing nbgrader: its import costs about two
seconds, paid by every single-submission run (Gradescope). A test checks
these against nbgrader's own functions on every cell of the notebooks.
`cell` is a plain dict as json.load gives it (a NotebookNode works too).
"""
import hashlib


def _nbgrader(cell):
    meta = cell.get("metadata")
    meta = meta.get("nbgrader") if isinstance(meta, dict) else None
    return meta if isinstance(meta, dict) else None


def grade_id(cell):
    """The cell's nbgrader grade_id, or None."""
    meta = _nbgrader(cell)
    gid = meta.get("grade_id") if meta else None
    return gid if isinstance(gid, str) else None


def is_grade(cell):
    meta = _nbgrader(cell)
    return bool(meta.get("grade", False)) if meta else False


def is_solution(cell):
    meta = _nbgrader(cell)
    return bool(meta.get("solution", False)) if meta else False


def is_locked(cell):
    meta = _nbgrader(cell)
    if meta is None or is_solution(cell):
        return False
    return True if is_grade(cell) else bool(meta.get("locked", False))


def source(cell):
    """The cell text: nbformat allows a list of lines on disk."""
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else str(s)


def checksum(cell):
    """nbgrader's compute_checksum of a cell; None when the metadata is unusable."""
    try:
        m = hashlib.md5()
        m.update(source(cell).encode("utf-8"))
        m.update(str(cell["cell_type"]).encode("utf-8"))
        m.update(str(is_grade(cell)).encode("utf-8"))
        m.update(str(is_solution(cell)).encode("utf-8"))
        m.update(str(is_locked(cell)).encode("utf-8"))
        m.update(_nbgrader(cell)["grade_id"].encode("utf-8"))
        if is_grade(cell):
            m.update(str(float(_nbgrader(cell)["points"])).encode("utf-8"))
        return m.hexdigest()
    except (KeyError, TypeError, ValueError, AttributeError):
        return None

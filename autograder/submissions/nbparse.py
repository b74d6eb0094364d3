"""Notebook bytes -> the code the grader runs. A pure function, run in the reader child.

`parse(data, request)` never touches the file system. It reads nbformat 4
JSON as plain data, takes the solution cells by grade_id (read as IPython reads
them: cell magics, `%magic` and `!cmd` lines; see `python_source`), compares the
graded test cells with their released checksums (tampering), and adds the
definitions the solutions depend on from the other code cells (see
`definitions`). Bad input gives `{"ok": False, "problem": one line}`.
"""
import ast
import json
import re

from autograder.submissions import nbcells
from .definitions import binds, plan
from .magics import cell_magic

MAX_MAGIC_LINES = 100       # per cell; IPython's transform is quadratic in them
_MAGIC_LINE = re.compile(r"^[ \t]*[!%]|=[ \t]*[!%]", re.M)
_MAYBE_IPYTHON = re.compile(r"^[ \t]*[!%?]|=[ \t]*[!%]|\?[ \t]*$", re.M)


class Invalid(Exception):
    """The bytes are not a notebook the grader can read; str(e) is one line."""


def _short(e):
    return str(e).splitlines()[0][:120] if str(e).strip() else type(e).__name__


def load_cells(data):
    """The notebook's cells as plain dicts; raises Invalid."""
    return load(data)["cells"]


def load(data):
    """The notebook as a plain dict whose cells are checked; raises Invalid."""
    try:
        nb = json.loads(data)
    except RecursionError:
        raise Invalid("the notebook's JSON is nested too deeply to read") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise Invalid(f"the file is not notebook JSON ({_short(e)})") from None
    if not isinstance(nb, dict):
        raise Invalid("the file is JSON but not a notebook (no top-level object)")
    version = nb.get("nbformat")
    if type(version) is not int or version != 4:
        raise Invalid(f"the notebook's format is {str(version)[:20]!r}, not 4: "
                      "open it in a current Jupyter and save it again")
    cells = nb.get("cells")
    if not isinstance(cells, list):
        raise Invalid("the notebook has no list of cells")
    for i, c in enumerate(cells, 1):
        src = c.get("source", "") if isinstance(c, dict) else None
        if not (isinstance(c, dict) and isinstance(c.get("cell_type"), str)
                and isinstance(c.get("metadata", {}), dict)
                and (isinstance(src, str) or (isinstance(src, list)
                                              and all(isinstance(x, str) for x in src)))):
            raise Invalid(f"cell {i} of the notebook is not a valid cell")
    return nb


def python_source(source, name="the cell"):
    """Cell text as plain Python, read the way IPython reads it. The body of a cell magic
    that runs it in the notebook's namespace (`%%time`, `%%capture`: see `magics`) is the
    cell's code, on its own lines; other magics and shell lines become calls that do
    nothing in the grader's worker. More than MAX_MAGIC_LINES of them (IPython's
    transform is quadratic in them) make the notebook invalid: raises Invalid."""
    if not _MAYBE_IPYTHON.search(source):
        return source                          # the common case: no IPython syntax at all
    n = len(_MAGIC_LINE.findall(source))
    if n > MAX_MAGIC_LINES:
        raise Invalid(f"the exercise cell {name} has {n} lines of %magic or !shell commands; "
                      f"the grader transforms at most {MAX_MAGIC_LINES} per cell")
    magic = cell_magic(source)
    if magic is not None and magic.keeps_definitions:
        # Nested magics (`%%capture` then `%%time`) peel one per call: at most n deep.
        return "\n" * magic.offset + python_source(magic.body, name)
    from IPython.core.inputtransformer2 import TransformerManager
    try:
        return TransformerManager().transform_cell(source)
    except Exception:   # noqa: BLE001 - the worker then reports the SyntaxError
        return source


def _definition_source(source):
    """A non-exercise cell, for the definitions analysis only: the body of a cell magic
    that keeps its definitions (see `magics`) is the cell, any other cell magic makes
    the whole cell a magic; a magic or shell line is no statement (kept as `pass`)."""
    pad = 0
    for _ in range(MAX_MAGIC_LINES):
        if not source.lstrip().startswith("%%"):
            break
        magic = cell_magic(source)
        if magic is None or not magic.keeps_definitions:
            return ""
        pad, source = pad + magic.offset, magic.body
    else:
        return ""
    return "\n" * pad + re.sub(r"^([ \t]*)[!%].*$", r"\1pass", source, flags=re.M)


def _dropped_by_magic(source, sid):
    """{name: one line} for what an exercise cell defines under a cell magic whose body
    IPython does not keep (`%%timeit`): the grader does not have it, nor does the notebook."""
    magic = cell_magic(source)
    if magic is None or magic.keeps_definitions:
        return {}
    try:
        names = set().union(*(binds(stmt) for stmt in ast.parse(magic.body).body))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    why = (f"the exercise cell {sid} starts with `%%{magic.name}`, which does not keep what "
           "its body defines (IPython runs the body elsewhere: not in your notebook either); "
           f"remove that line")
    return {n: why for n in sorted(names)}


def kernel_names(nb):
    """The notebook's kernelspec names (a dict from `load`), each cut to 200 characters."""
    meta = nb.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    ks = meta.get("kernelspec")
    ks = ks if isinstance(ks, dict) else {}
    return {k: str(ks[k])[:200] for k in ("name", "display_name") if k in ks}


def outline(cells, kernel):
    """The notebook (its checked `cells` and `kernel_names`) reduced to what a viewer of
    it needs: each cell's type, source and grade_id, and the kernel's names. No outputs,
    no other metadata: its size is that of the cell sources, whatever the file held."""
    out = []
    for c in cells:
        new = {"cell_type": c["cell_type"], "metadata": {}, "source": nbcells.source(c)}
        gid = nbcells.grade_id(c)
        if gid is not None:
            new["metadata"]["nbgrader"] = {"grade_id": gid}
        out.append(new)
    return {"nbformat": 4, "nbformat_minor": 4, "cells": out,
            "metadata": {"kernelspec": kernel}}


def parse(data, request):
    """The code reply for a notebook's bytes (the first of `replies`)."""
    return next(replies(data, request))


def replies(data, request):
    """The replies for a notebook's bytes, one at a time: first the code,
    {"ok", "cells", "tampered", "unavailable", "problem"} ({"ok": False, "problem"} when
    they are not a readable notebook); then, when the request asks {"outline": true} and
    the code was read, {"outline": ...} (see `outline`: the same bytes as a viewer shows
    them), worked out from the same parsed cells only once the code reply was taken.

    request: {"solution_ids": [...], "tests": [[grade_id, [accepted checksums]], ...],
    "outline": bool (optional)}. The code reply is the same whether or not the outline
    is asked: the reader child sends it before the outline is made (reader_child).
    """
    try:
        nb = load(data)
    except Invalid as e:
        yield {"ok": False, "problem": f"the notebook could not be read: {e}"}
        return
    cells, kernel = nb["cells"], kernel_names(nb) if request.get("outline") else None
    del nb      # only the cells are held while the code is worked out
    reply = _code(cells, request)
    yield reply
    if reply["ok"] and kernel is not None:
        yield {"outline": outline(cells, kernel)}


def _code(cells, request):
    """parse's reply for the notebook's `cells`, without the outline."""
    solution_ids = list(request["solution_ids"])
    tests = {gid: set(sums) for gid, sums in request["tests"]}

    by_id: dict[str, list[dict]] = {}
    for c in cells:
        gid = nbcells.grade_id(c)
        if gid is not None:
            by_id.setdefault(gid, []).append(c)

    code_cells, dropped = [], {}
    for sid in solution_ids:
        found = [c for c in by_id.get(sid, []) if c.get("cell_type") == "code"]
        if found:
            # A copy-pasted cell keeps its grade_id; run top to bottom, the
            # last definition is the one the student's kernel would hold.
            try:
                code_cells.append([sid, python_source(nbcells.source(found[-1]), sid)])
            except Invalid as e:
                return {"ok": False, "problem": f"the notebook could not be read: {e}"}
            dropped.update(_dropped_by_magic(nbcells.source(found[-1]), sid))

    tampered = {}
    for gid, sums in tests.items():
        found = by_id.get(gid, [])
        if not found:
            tampered[gid] = "the test cell was deleted or re-labelled"
        elif not any(nbcells.checksum(c) in sums for c in found):
            tampered[gid] = "the test cell was edited"

    solutions = {id(c) for sid in solution_ids for c in by_id.get(sid, [])}
    candidates: list[tuple[str, str]] = []
    test_cells: list[tuple[str, str]] = []
    for i, c in enumerate(cells, 1):
        if c.get("cell_type") != "code" or id(c) in solutions:
            continue
        src = _definition_source(nbcells.source(c))
        (test_cells if nbcells.is_grade(c) else candidates).append((f"#{i}", src))
    prelude, unavailable = plan(candidates, [src for _, src in code_cells],
                                test_cells=test_cells)
    unavailable.update(dropped)
    return {"ok": True, "cells": [list(p) for p in prelude] + code_cells,
            "tampered": tampered, "unavailable": unavailable, "problem": ""}

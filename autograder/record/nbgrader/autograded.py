"""The notebooks of OUT's nbgrader course that formgrader shows (course.py writes the rest).

Guarantees, for every graded student:
- `OUT/autograded/<student>/<name>/<name>.ipynb` is the submitted notebook as
  formgrader needs it: nbgrader metadata kept only on the graded cells the
  gradebook knows (one cell per id, canonical flags, so no crafted metadata can
  make formgrader fail), every stored output replaced by what the grader found
  (a student's saved "all tests passed" is not shown as if it were ours).
  Student text is shown in safe forms only (see untrusted.py): a Markdown cell
  holds its sanitised rendering as one line of HTML (which formgrader's
  unsanitised Markdown rendering shows as it is), a raw cell its text escaped
  the same way, outputs are the grader's plain-text verdicts, attachments and
  metadata are dropped, the kernel is the course's.
  nbgrader's `timestamp.txt` and `submission_secret.txt`, when the submission
  came through the exchange, are copied beside it for `release_feedback`.
- `OUT/submitted/<student>/<name>/` exists for each of them (holding only a
  timestamp.txt that parses), which is how formgrader counts submissions.

Plain JSON only: no nbgrader import (it costs about two seconds).
"""
import functools
import json
import os
import re
import shutil
import stat
from pathlib import Path

from autograder.model import UNREADABLE
from autograder.submissions import nbcells as cells
from autograder.record.store import atomic_write, inside, safe_name
from autograder.wording import verdict_line
from autograder.untrusted import (MarkdownBudget, markdown_html, output_text,
                                  renderer_files, text_html)

MAX_SIDE_FILE_BYTES = 4096
SIDE_FILES = ("timestamp.txt", "submission_secret.txt")


def _stream(text):
    return {"output_type": "stream", "name": "stdout", "text": output_text(text)}


def _html_cell(html):
    """A Markdown cell holding one line of safe HTML (untrusted.markdown_html/text_html),
    which every renderer (formgrader, `generate_feedback`, JupyterLab) shows as it is."""
    return {"cell_type": "markdown", "metadata": {}, "source": html}


def _shown(ctype, source, markdown, trusted):
    """A student's Markdown or raw cell in its safe form (see untrusted.py); `markdown`:
    the notebook's MarkdownBudget; `trusted`: see `release_markdown`."""
    if ctype != "markdown":
        return _html_cell(text_html(source))
    if source in trusted:
        return _html_cell(trusted[source])
    return _html_cell(markdown.html(source))


def release_markdown(release):
    """{source: its safe HTML, formulas typeset} for each Markdown cell of the release
    notebook: the instructor's own text, rendered once per process and version of the
    file (the gradebook's preload renders it while the students are graded). A
    student's cell left exactly as released is shown so (and costs no rendering); every
    other cell is the student's. Empty when there is no release to read."""
    try:
        st = os.stat(release)
    except (OSError, TypeError, ValueError):
        return {}
    return dict(_release_markdown(str(release), st.st_mtime_ns, st.st_size))


@functools.lru_cache(maxsize=4)
def _release_markdown(release, mtime_ns, size):
    """Rendered once per release file and renderer (~0.17 s of CPU for the softmax
    release) and kept beside this module's compiled code between runs (record/ahead):
    made again when the release's bytes, untrusted.py or a renderer library changes."""
    from autograder.record import ahead
    try:
        return ahead.kept(
            folder=Path(__file__).parent,
            # One kept file per release name: a test's release.ipynb leaves the course's own.
            name="release-markdown-" + re.sub(r"[^A-Za-z0-9_-]", "_", Path(release).stem)[:40],
            sources=[Path(release), *renderer_files()], make=lambda: _render(release),
            valid=lambda kept: isinstance(kept, dict) and all(
                isinstance(k, str) and isinstance(v, str) for k, v in kept.items()))
    except OSError:
        return {}


def _render(release):
    try:
        nb = json.loads(Path(release).read_text(encoding="utf-8"))
        sources = {_text(c.get("source", "")) for c in nb["cells"]
                   if isinstance(c, dict) and c.get("cell_type") == "markdown"}
    except (OSError, TypeError, ValueError, KeyError):
        return {}
    return {src: markdown_html(src, math=True) for src in sources}


def _verdict(tests):
    return "\n".join(verdict_line(t) for t in tests) + "\n"


def _text(value):
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return value if isinstance(value, str) else ""


def autograded_notebook(nb, result, spec, *, trusted=None):
    """The notebook formgrader shows: sanitized metadata, our verdicts as outputs.
    `trusted`: see `release_markdown`."""
    points = {t.grade_id: t.points for t in spec.tests}
    by_test = {t.grade_id: t for t in result.tests}
    solution_ids = set(spec.solution_ids)
    # The grader runs the LAST cell of a solution id (a copy-pasted cell keeps its
    # id), and compares the FIRST matching test cell: mark those, strip the rest.
    keep = {}
    for i, cell in enumerate(nb["cells"]):
        gid = cells.grade_id(cell) if isinstance(cell, dict) else None
        if gid in solution_ids:
            keep[gid] = i
        elif gid in points and gid not in keep:
            keep[gid] = i
    kept_at = {i: gid for gid, i in keep.items()}

    out_cells = []
    markdown = MarkdownBudget()
    for i, cell in enumerate(nb["cells"]):
        if not isinstance(cell, dict):
            continue
        ctype = cell.get("cell_type") if cell.get("cell_type") in ("code", "markdown", "raw") \
            else "raw"
        new = {"cell_type": ctype, "metadata": {}, "source": _text(cell.get("source", ""))}
        gid = kept_at.get(i)
        if ctype != "code":
            # (a re-typed graded cell too: it is not graded)
            out_cells.append(_shown(ctype, new["source"], markdown, trusted or {}))
            continue
        if gid in solution_ids:
            new["metadata"]["nbgrader"] = {"grade": False, "solution": True, "locked": False,
                                           "task": False, "grade_id": gid, "schema_version": 3,
                                           "cell_type": "code"}
        elif gid is not None:
            new["metadata"]["nbgrader"] = {"grade": True, "solution": False, "locked": True,
                                           "task": False, "grade_id": gid, "points": points[gid],
                                           "schema_version": 3, "cell_type": "code"}
        new["execution_count"] = None
        new["outputs"] = []
        if gid in by_test:
            new["outputs"] = [_stream("autograder: " + _verdict([by_test[gid]]))]
        out_cells.append(new)
    # Tests whose cell is gone still count in the gradebook; say so at the end.
    missing = [by_test[g] for g in points if g not in keep and g in by_test]
    if missing:
        out_cells.append({"cell_type": "code", "metadata": {}, "execution_count": None,
                          "source": "# graded test cells missing from this submission",
                          "outputs": [_stream("autograder: " + _verdict(missing))]})
    if result.problem or result.flags:
        out_cells.insert(0, _html_cell(text_html("Autograder: " + "; ".join(
            filter(None, [result.problem, ", ".join(result.flags)])))))
    # The course's kernel, as nbgrader's OverwriteKernelspec does: never the student's names.
    return {"nbformat": 4, "nbformat_minor": 4, "cells": out_cells,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                        "language": "python"},
                         "language_info": {"name": "python"}}}


def _side_file(path):
    """The bytes of `path` when it is a regular file of at most MAX_SIDE_FILE_BYTES, else
    None. One open that follows no link and never blocks, then checks of what was opened:
    a file swapped for a link or a FIFO after any earlier look is neither followed nor
    waited on."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_SIDE_FILE_BYTES:
            return None
        data = f.read(MAX_SIDE_FILE_BYTES + 1)
    return data if len(data) <= MAX_SIDE_FILE_BYTES else None


def _copy_side_files(src_dir, dest_dir):
    for name in SIDE_FILES:
        try:
            data = _side_file(src_dir / name)
            if data is not None:
                atomic_write(dest_dir / name, data)
        except OSError:
            continue


def write_autograded(out, *, results, spec, notebooks, on_error=None, trusted=None):
    """OUT/autograded/<student>/<name>/: one folder per student with a readable notebook.

    `notebooks` maps student id -> its submissions.notebook.Shown (or None): the outline
    of the very bytes the grader graded, from the same read, never a second read of
    the file. A notebook the grader could not read (missing, invalid, a link) has none. With `on_error(student_id, what, exception)`, a student whose
    folder fails is told there and has no folder (no stale copy is left); the
    others are written. `trusted`: see `release_markdown`. Returns the student ids written.
    """
    root = Path(out) / "autograded"
    written = []
    for r in results:
        # The student's folder is named as in the gradebook (gradebook.nbgrader_id).
        dest = inside(root, safe_name(r.student_id), spec.name)
        try:
            if _write_one(dest, r, spec, notebooks.get(r.student_id), trusted):
                written.append(r.student_id)
        except Exception as e:  # noqa: BLE001 - one student's folder never stops the others'
            if on_error is None:
                raise
            shutil.rmtree(dest, ignore_errors=True)
            on_error(r.student_id, "autograded notebook", e)
    _mark_submitted(out, written, spec.name)
    return written


def _write_one(dest, result, spec, shown, trusted):
    """One student's autograded folder; False (and no folder) when there is no notebook."""
    readable = not (UNREADABLE & set(result.flags))
    nb = shown.outline if readable and shown is not None else None
    if nb is None:
        if dest.exists():
            shutil.rmtree(dest)     # a stale copy of an earlier notebook
        return False
    dest.mkdir(parents=True, exist_ok=True)
    atomic_write(dest / f"{spec.name}.ipynb",
                 json.dumps(autograded_notebook(nb, result, spec, trusted=trusted), indent=1))
    if shown.folder is not None:
        _copy_side_files(shown.folder, dest)
    return True


def _mark_submitted(out, student_ids, name):
    """OUT/submitted/<student>/<name>/ for each autograded student.

    Formgrader counts an assignment's submissions by these folders ("# Submissions"),
    and takes a student as autograded when the timestamp.txt here equals the
    gradebook's; so the folder holds only that file, when it parses (no notebook:
    the submission itself stays where the instructor keeps it). A folder of an
    earlier run whose student is gone is removed only when it holds nothing else.
    """
    root = Path(out) / "submitted"
    keep = {safe_name(sid) for sid in student_ids}
    if root.is_dir() and not root.is_symlink():
        for old in root.iterdir():
            if old.name not in keep:
                _remove_marker(old / name)
    for sid in student_ids:
        dest = inside(root, safe_name(sid), name)
        dest.mkdir(parents=True, exist_ok=True)
        if set(os.listdir(dest)) - {"timestamp.txt"}:
            continue    # not a folder of ours: left as it is
        stamp = inside(out, "autograded", safe_name(sid), name, "timestamp.txt")
        if stamp.is_file() and _parses(stamp.read_text(encoding="utf-8", errors="replace")):
            atomic_write(dest / "timestamp.txt", stamp.read_bytes())
        elif (dest / "timestamp.txt").is_file():
            (dest / "timestamp.txt").unlink()


def _remove_marker(folder):
    """Remove a <student>/<name>/ folder of ours: empty but for a timestamp.txt."""
    try:
        if folder.is_symlink() or not folder.is_dir() or set(os.listdir(folder)) - {"timestamp.txt"}:
            return
        if (folder / "timestamp.txt").is_file():
            (folder / "timestamp.txt").unlink()
        folder.rmdir()
        folder.parent.rmdir()       # only when nothing else is left in it
    except OSError:
        pass


def _parses(text):
    """nbgrader reads timestamp.txt with dateutil (nbgrader.utils.parse_utc)."""
    from dateutil.parser import parse
    try:
        parse(text.strip())
        return True
    except (ValueError, OverflowError, TypeError):
        return False


def timestamp(shown):
    """nbgrader's timestamp.txt beside a submitted notebook (its Shown), or None."""
    folder = shown.folder if shown is not None else None
    if folder is None:
        return None
    p = folder / "timestamp.txt"
    try:
        if p.is_symlink() or not p.is_file() or p.stat().st_size > MAX_SIDE_FILE_BYTES:
            return None
        return p.read_text(encoding="utf-8", errors="replace").strip() or None
    except OSError:
        return None


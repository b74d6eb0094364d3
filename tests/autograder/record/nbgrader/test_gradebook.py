"""The nbgrader gradebook and course layout written into OUT."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.record.nbgrader import course, gradebook, autograded as nbgrader_course
from autograder.model import Spec, StudentResult, TestCell, TestResult
from tests.autograder.helpers import shown

ROOT = Path(__file__).resolve().parents[4]
EMPTY = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 4}
SPEC = Spec("hw", ("f", "f_fast"), (TestCell("test_f", 2.0, ("c1",), target="f"),
                                    TestCell("test_f_fast_speed", 3.0, ("c2",),
                                             target="f_fast")))


def result(sid, f=2.0, speed=3.0, flags=()):
    return StudentResult(sid, "sha", "grader", flags=list(flags), tests=[
        TestResult("test_f", f, 2.0, f == 2.0, "" if f == 2.0 else "f(0) is wrong", None,
                   None if f == 2.0 else "return 0 for 0"),
        TestResult("test_f_fast_speed", speed, 3.0, speed == 3.0)])


def scores(db):
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{db}") as gb:
        return {s.student.id: s.score for s in gb.assignment_submissions("hw")}


def test_record_writes_scores_comments_and_keeps_manual_grades(tmp_path):
    db = tmp_path / "gradebook.db"
    gradebook.record([result("ann"), result("bob", f=0.0, flags=["tampering"])], SPEC, db,
                     timestamps={"ann": "2026-01-02 03:04:05.000000 UTC"})
    assert scores(db) == {"ann": 5.0, "bob": 3.0}
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{db}") as gb:
        comment = gb.find_comment("f", "hw", "hw", "bob").comment
        assert "f(0) is wrong" in comment and "return 0 for 0" in comment
        assert gb.find_submission_notebook("hw", "hw", "bob").flagged
        assert gb.find_submission("hw", "ann").timestamp.year == 2026
        grade = gb.find_grade("test_f", "hw", "hw", "bob")
        grade.manual_score = 1.5          # what an instructor does in formgrader
        gb.db.commit()
    gradebook.record([result("ann", speed=0.0), result("bob", f=0.0), result("cy")], SPEC, db)
    assert scores(db) == {"ann": 2.0, "bob": 4.5, "cy": 5.0}


class _Broken(StudentResult):
    """A result whose flags cannot be read: recording it fails half-way."""
    @property
    def flags(self):
        raise RuntimeError("disk on fire")

    @flags.setter
    def flags(self, value):
        pass


def _broken(student_id):
    return _Broken(student_id, "sha", "grader", tests=result(student_id).tests)


def test_record_is_one_transaction(tmp_path, monkeypatch):
    db = tmp_path / "gradebook.db"
    gradebook.record([result("ann")], SPEC, db)
    before = db.read_bytes()

    bad = _broken("zed")
    with pytest.raises(RuntimeError):
        gradebook.record([result("ann", f=0.0), result("bob"), bad], SPEC, db)
    assert scores(db) == {"ann": 5.0}
    assert db.read_bytes() == before


def test_a_new_gradebook_appears_whole_or_not_at_all(tmp_path):
    """A new gradebook is built beside its place and renamed in: a failure leaves none
    (and no part-built file), a success leaves the gradebook alone in the folder."""
    db = tmp_path / "gradebook.db"

    bad = _broken("zed")
    with pytest.raises(RuntimeError):
        gradebook.record([result("ann"), bad], SPEC, db)
    assert list(tmp_path.iterdir()) == []
    seen = []
    gradebook.record([result("ann"), bad], SPEC, db,
                     on_error=lambda sid, what, e: seen.append(sid))
    assert seen == ["zed"] and list(tmp_path.iterdir()) == [db]
    assert scores(db) == {"ann": 5.0}


def test_each_verdict_goes_to_the_solution_its_check_targets_whatever_its_id():
    """The gradebook reads the target each check declares: an id that names no solution
    (or names another one) loses no comment and lands on no wrong cell."""
    spec = Spec("hw", ("f", "f_fast"), (TestCell("test_f", 2.0, ("c1",), target="f"),
                                        TestCell("speed_of_f", 3.0, ("c2",), target="f_fast"),
                                        TestCell("test_f_fast_x", 1.0, ("c3",), target="f")))
    r = StudentResult("ann", "sha", "grader", tests=[
        TestResult("test_f", 2.0, 2.0, True), TestResult("speed_of_f", 0.0, 3.0, False, "slow"),
        TestResult("test_f_fast_x", 0.0, 1.0, False, "wrong", None, "try again")])
    texts = gradebook._comments(r, spec)
    assert texts["f"] == "test_f: 2 / 2 passed\ntest_f_fast_x: 0 / 1 failed: wrong\n  Hint: try again"
    assert texts["f_fast"] == "speed_of_f: 0 / 3 failed: slow"


def test_autograded_notebook_keeps_only_known_graded_cells(tmp_path):
    nb = {"cells": [
        {"cell_type": "code", "source": "def f(x): return 0", "outputs": [{"output_type": "stream",
         "name": "stdout", "text": "all tests passed!"}],
         "metadata": {"nbgrader": {"grade_id": "f", "solution": True, "grade": True,
                                   "points": 99, "task": True}}},
        {"cell_type": "code", "source": "assert f(0) == 0",
         "metadata": {"nbgrader": {"grade_id": "test_f", "grade": True, "points": 2}}},
        {"cell_type": "code", "source": "copy", "metadata": {"nbgrader": {"grade_id": "test_f"}}},
        {"cell_type": "markdown", "source": "x", "metadata": {"nbgrader": {"grade_id": "evil",
                                                                           "task": True}}},
        "not a cell",
    ], "metadata": {"kernelspec": {"name": "python3"}}}
    out = nbgrader_course.autograded_notebook(nb, result("ann", f=0.0), SPEC)
    meta = [c["metadata"].get("nbgrader") for c in out["cells"]]
    assert meta[0]["solution"] and not meta[0]["grade"] and not meta[0]["task"]
    assert meta[1] == {"grade": True, "solution": False, "locked": True, "task": False,
                       "grade_id": "test_f", "points": 2.0, "schema_version": 3,
                       "cell_type": "code"}
    assert meta[2] is None and meta[3] is None
    assert out["cells"][0]["outputs"] == []            # the student's own outputs are gone
    assert "0 / 2 failed: f(0) is wrong" in out["cells"][1]["outputs"][0]["text"]
    # the missing speed test is reported at the end
    assert "test_f_fast_speed" in out["cells"][-1]["outputs"][0]["text"]
    import nbformat
    nbformat.validate(nbformat.from_dict(out))


def test_write_course_makes_out_an_nbgrader_course(tmp_path):
    sub = tmp_path / "subs" / "ann"
    sub.mkdir(parents=True)
    (sub / "hw.ipynb").write_text(json.dumps(EMPTY))
    (sub / "timestamp.txt").write_text("2026-01-02 03:04:05.000000 UTC")
    (sub / "submission_secret.txt").symlink_to("/etc/passwd")    # never followed
    out = tmp_path / "out"
    course.write_course(out, results=[result("ann"), result("bob")], spec=SPEC,
                        notebooks={"ann": shown(sub / "hw.ipynb", SPEC), "bob": None},
                        course_root=tmp_path)
    assert (out / "autograded" / "ann" / "hw" / "hw.ipynb").exists()
    assert (out / "autograded" / "ann" / "hw" / "timestamp.txt").exists()
    assert not (out / "autograded" / "ann" / "hw" / "submission_secret.txt").exists()
    assert not (out / "autograded" / "bob").exists()
    assert scores(out / "gradebook.db") == {"ann": 5.0, "bob": 5.0}
    config = (out / "nbgrader_config.py").read_text()
    assert 'CsvExportPlugin.to = "nbgrader_grades.csv"' in config
    compile(config, "nbgrader_config.py", "exec")


def test_importing_the_pipeline_does_not_import_nbgrader():
    code = ("import sys, autograder.pipeline, autograder.cli; "
            "sys.exit('nbgrader' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_odd_student_ids_reach_nbgrader_as_safe_names(tmp_path):
    ids = ["José", "a\nb", "=cmd|' calc'!A0", "bad\\xffbytes", "-x", ".hidden", "x" * 300]
    out = tmp_path / "out"
    course.write_course(out, results=[result(i) for i in ids], spec=SPEC,
                        notebooks={i: None for i in ids}, course_root=None)
    got = scores(out / "gradebook.db")
    assert len(got) == len(ids) and all(v == 5.0 for v in got.values())
    assert all("\n" not in k and not k.startswith(("=", "-", ".")) for k in got)
    assert gradebook.nbgrader_id("plain_id-1") == "plain_id-1"


def test_unreadable_submissions_are_not_read_again(tmp_path):
    sub = tmp_path / "subs" / "ann"
    sub.mkdir(parents=True)
    (sub / "hw.ipynb").write_text(json.dumps(EMPTY))
    out = tmp_path / "out"
    flagged = result("ann", flags=["symlink"])
    written = nbgrader_course.write_autograded(out, results=[flagged], spec=SPEC,
                                               notebooks={"ann": shown(sub / "hw.ipynb", SPEC)})
    assert written == [] and not (out / "autograded" / "ann").exists()


def _submitted_students(out):
    """What formgrader counts as the assignment's submissions (nbgrader's NbGraderAPI)."""
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    coursedir = CourseDirectory(root=str(out))
    api = NbGraderAPI(coursedir=coursedir)
    return api.get_submitted_students("hw"), api.get_autograded_students("hw")


def test_formgrader_counts_each_autograded_student_as_a_submission(tmp_path):
    subs = tmp_path / "subs"
    for sid in ("ann", "bob", "cy"):
        (subs / sid).mkdir(parents=True)
        (subs / sid / "hw.ipynb").write_text(json.dumps(EMPTY))
    (subs / "ann" / "timestamp.txt").write_text("2026-01-02 03:04:05.000000 UTC")
    (subs / "bob" / "timestamp.txt").write_text("not a time")
    out = tmp_path / "out"
    nbs = {sid: shown(subs / sid / "hw.ipynb", SPEC) for sid in ("ann", "bob", "cy")}
    course.write_course(out, results=[result(s) for s in ("ann", "bob", "cy", "dee")],
                        spec=SPEC, notebooks={**nbs, "dee": None}, course_root=None)
    submitted, autograded = _submitted_students(out)
    # dee sent no notebook: a gradebook row, not a submission to open.
    assert submitted == autograded == {"ann", "bob", "cy"}
    assert (out / "submitted" / "ann" / "hw" / "timestamp.txt").exists()
    assert not (out / "submitted" / "bob" / "hw" / "timestamp.txt").exists()
    assert not list((out / "submitted").rglob("*.ipynb"))

    # Re-graded without cy: cy's marker goes, a folder that is not ours stays.
    (out / "submitted" / "zed" / "hw").mkdir(parents=True)
    (out / "submitted" / "zed" / "hw" / "hw.ipynb").write_text("{}")
    course.write_course(out, results=[result(s) for s in ("ann", "bob")], spec=SPEC,
                        notebooks=nbs, course_root=None)
    assert not (out / "submitted" / "cy").exists()
    assert (out / "submitted" / "zed" / "hw" / "hw.ipynb").exists()


@pytest.mark.skipif(importlib.util.find_spec("rfc3987_syntax") is None,
                    reason="rfc3987_syntax is not installed: nothing to leave out")
def test_nbgrader_is_imported_without_the_iri_grammar(tmp_path):
    """The course output (autograded notebooks with rendered Markdown, then the gradebook)
    imports nbgrader and nbconvert without rfc3987_syntax (whose grammar costs ~1.6 s at
    import), is still written, and leaves that module importable afterwards."""
    code = (
        "import sys\n"
        "from autograder.record.nbgrader import course\n"
        "import tests.autograder.record.nbgrader.test_gradebook as t\n"
        "import json, pathlib\n"
        f"nb = pathlib.Path({str(tmp_path / 'ann.ipynb')!r})\n"
        "nb.write_text(json.dumps({'nbformat': 4, 'nbformat_minor': 5, 'metadata': {}, "
        "'cells': [{'cell_type': 'markdown', 'metadata': {}, 'source': '# *Hi* [a](b)'}]}))\n"
        f"course.write_course(pathlib.Path({str(tmp_path / 'out')!r}), "
        "results=[t.result('ann')], spec=t.SPEC, notebooks={'ann': t.shown(nb, t.SPEC)}, "
        "course_root=None)\n"
        "assert 'nbconvert.filters.markdown_mistune' in sys.modules, 'no Markdown rendered'\n"
        "assert 'jsonschema._format' in sys.modules and 'nbgrader.api' in sys.modules\n"
        "assert 'rfc3987_syntax' not in sys.modules, 'the IRI grammar was imported'\n"
        "import rfc3987_syntax\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    assert scores(tmp_path / "out" / "gradebook.db") == {"ann": 5.0}


def test_the_gradebook_is_written_without_nbgraders_server_extensions(tmp_path):
    """nbgrader's package __init__ (its Jupyter server extensions) is not run in the
    grader; nbgrader's version and its other modules are still there afterwards."""
    code = (
        "import sys, pathlib\n"
        "from autograder.record.nbgrader import gradebook\n"
        "import tests.autograder.record.nbgrader.test_gradebook as t\n"
        "gradebook.preload()\n"
        "gradebook.preload_renderer()\n"
        f"gradebook.record([t.result('ann')], t.SPEC, pathlib.Path({str(tmp_path / 'g.db')!r}))\n"
        "assert 'nbgrader.api' in sys.modules and 'bleach' in sys.modules\n"
        "assert 'jupyter_server' not in sys.modules, 'the server extensions were loaded'\n"
        "import nbgrader\n"
        "assert nbgrader.__version__\n"
        "from nbgrader.apps.api import NbGraderAPI\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    assert scores(tmp_path / "g.db") == {"ann": 5.0}


def test_only_the_releases_own_markdown_keeps_its_formulas_typeset(tmp_path):
    """Student Markdown is shown with its math as TeX (out of MathJax's reach); a cell
    left exactly as released is the instructor's text and keeps its formulas."""
    from autograder.untrusted import NO_MATH
    release = tmp_path / "release.ipynb"
    release.write_text(json.dumps({"cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["The loss is ", "$L = -\\log p$."]}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 4}))
    trusted = nbgrader_course.release_markdown(release)
    nb = {"cells": [{"cell_type": "markdown", "source": "The loss is $L = -\\log p$."},
                    {"cell_type": "markdown", "source": "The loss is $L = -\\log p$. Mine."},
                    {"cell_type": "raw", "source": "$x$"}], "metadata": {}}
    out = nbgrader_course.autograded_notebook(nb, result("ann"), SPEC, trusted=trusted)
    kept, changed, raw = (c["source"] for c in out["cells"][:3])
    assert kept.startswith("<div><p>") and NO_MATH not in kept and "$L = -\\log p$" in kept
    assert changed.startswith(f'<div class="{NO_MATH}">')
    assert NO_MATH in raw and all(c["cell_type"] == "markdown" for c in out["cells"][:3])
    assert nbgrader_course.release_markdown(tmp_path / "missing.ipynb") == {}


def test_the_preload_renders_the_releases_markdown_once_for_write_course(tmp_path, monkeypatch):
    release = tmp_path / "release.ipynb"
    cell = {"cell_type": "markdown", "metadata": {}, "source": "The loss is $L$."}
    release.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4,
                                   "nbformat_minor": 4}))
    course.preload(release)
    rendered = nbgrader_course.release_markdown(release)

    def no_render(*a, **k):
        raise AssertionError("rendered again")
    monkeypatch.setattr(nbgrader_course, "markdown_html", no_render)
    assert nbgrader_course.release_markdown(release) == rendered
    assert list(rendered) == ["The loss is $L$."]
    # An edited release is rendered anew.
    cell["source"] = "Another text, longer."
    release.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4,
                                   "nbformat_minor": 4}))
    monkeypatch.undo()
    assert list(nbgrader_course.release_markdown(release)) == ["Another text, longer."]


def _course_job(tmp_path):
    nb = tmp_path / "ann.ipynb"
    nb.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                              "cells": [{"cell_type": "markdown", "metadata": {},
                                         "source": "# *Hi*"}]}))
    return dict(results=[result("ann"), result("bob", f=0.0)], spec=SPEC,
                notebooks={"ann": shown(nb, SPEC), "bob": shown(nb, SPEC)}, course_root=None)


def test_the_course_writer_child_writes_what_write_course_writes(tmp_path):
    course.write_course(tmp_path / "here", **_course_job(tmp_path))
    writer = course.CourseWriter()
    try:
        writer.write(tmp_path / "child", **_course_job(tmp_path))
    finally:
        writer.close()
    assert writer._proc.exitcode == 0       # the child wrote it and ended (not killed)
    assert scores(tmp_path / "child" / "gradebook.db") == scores(tmp_path / "here" / "gradebook.db") \
        == {"ann": 5.0, "bob": 3.0}
    here = sorted(p.relative_to(tmp_path / "here") for p in (tmp_path / "here").rglob("*"))
    child = sorted(p.relative_to(tmp_path / "child") for p in (tmp_path / "child").rglob("*"))
    assert here == child
    for rel in here:
        if rel.suffix == ".ipynb":
            assert (tmp_path / "here" / rel).read_bytes() == (tmp_path / "child" / rel).read_bytes()


def test_a_course_writer_whose_child_is_gone_writes_here(tmp_path):
    writer = course.CourseWriter()
    writer._proc.kill()
    writer._proc.join()
    try:
        writer.write(tmp_path / "out", **_course_job(tmp_path))
    finally:
        writer.close()
    assert scores(tmp_path / "out" / "gradebook.db") == {"ann": 5.0, "bob": 3.0}


def test_a_failure_of_write_course_in_the_child_is_raised_here(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    writer = course.CourseWriter()
    try:
        with pytest.raises(Exception):
            writer.write(tmp_path / "a-file", **_course_job(tmp_path))
    finally:
        writer.close()
    assert not writer._proc.is_alive()


def test_nbgrader_loads_without_setuptools_and_its_unzip_still_works(tmp_path):
    """setuptools (imported by nbgrader.utils for `unzip` alone) is imported when unzip
    is first called, not when the gradebook loads nbgrader; so is nbgrader.auth
    (requests and the JupyterHub client), which a Gradebook given no authenticator
    never uses."""
    import zipfile
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("x.txt", "hi")
    (tmp_path / "out").mkdir()
    code = ("import sys\n"
            "from autograder.record.nbgrader import gradebook\n"
            "gradebook.nbgrader_api()\n"
            "print('setuptools' in sys.modules, 'nbgrader.auth' in sys.modules)\n"
            "from nbgrader.utils import unzip\n"
            f"unzip({str(archive)!r}, {str(tmp_path / 'out')!r})\n"
            "print('setuptools' in sys.modules)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert run.stdout.split() == ["False", "False", "True"]
    assert (tmp_path / "out" / "x.txt").read_text() == "hi"


def test_a_new_gradebook_is_stamped_with_the_head_of_nbgraders_migrations(tmp_path):
    """The version stamp (read with alembic imported without its __init__) is the head
    alembic itself, imported whole in a fresh interpreter, finds: nbgrader then sees an
    up-to-date schema and never migrates it."""
    import sqlite3
    db = tmp_path / "gradebook.db"
    gradebook.record([result("ann")], SPEC, db)
    stamp = sqlite3.connect(db).execute("SELECT version_num FROM alembic_version").fetchall()
    code = ("import alembic, pathlib, nbgrader\n"
            "from alembic.script import ScriptDirectory\n"
            "print(ScriptDirectory(str(pathlib.Path(nbgrader.__file__).parent / 'alembic'))"
            ".get_current_head())\n")
    head = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip()
    assert stamp == [(head,)] and head


def test_the_head_of_nbgraders_migrations_is_read_by_alembic_once_then_kept():
    """A run that has read the head keeps it (record/ahead): the next process stamps a new
    gradebook with the same head without importing alembic (~0.13 s of the course
    writer's CPU, which the --gradebook run waits for)."""
    code = ("import sys\n"
            "from autograder.record.nbgrader import gradebook\n"
            "print(gradebook._alembic_head(), 'alembic.script' in sys.modules)\n")
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           cwd=ROOT, check=True).stdout.split() for _ in range(2)]
    assert runs[1][0] == runs[0][0] and runs[0][0]
    assert runs[1][1] == "False"


def test_the_releases_rendered_markdown_is_kept_between_runs():
    """The release's Markdown is rendered once (~0.17 s of the course writer's CPU), then
    read back in the next process without importing the renderer, to the same HTML."""
    code = ("import sys, hashlib, json\n"
            "from autograder.assignment import get\n"
            "from autograder.record.nbgrader import autograded\n"
            "html = autograded.release_markdown(get('softmax').release)\n"
            "print(hashlib.sha256(json.dumps(html, sort_keys=True).encode()).hexdigest(),"
            " len(html), 'bleach' in sys.modules)\n")
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           cwd=ROOT, check=True).stdout.split() for _ in range(2)]
    assert runs[0][:2] == runs[1][:2] and int(runs[0][1]) > 5
    assert runs[1][2] == "False"


def test_a_write_asked_for_before_the_preload_ends_renders_a_changed_cell_all_the_same(tmp_path):
    """The preload leaves the renderer out when the write is already waiting; a Markdown
    cell the student changed is then rendered where it is written, as it would be."""
    code = ("import sys, pathlib\n"
            "import tests.autograder.record.nbgrader.test_gradebook as t\n"
            "from autograder.record.nbgrader import course\n"
            "course.preload(None, waiting=lambda: True)\n"
            "assert 'bleach' not in sys.modules\n"
            f"course.write_course(pathlib.Path({str(tmp_path / 'out')!r}), "
            f"**t._course_job(pathlib.Path({str(tmp_path)!r})))\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    nb = json.loads((tmp_path / "out" / "autograded" / "ann" / SPEC.name /
                     f"{SPEC.name}.ipynb").read_text())
    assert "<em>Hi</em>" in nb["cells"][0]["source"]

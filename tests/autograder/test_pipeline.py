"""Pipeline guards that need no grading run."""
import pytest

from autograder import pipeline
from autograder.submissions.discover import UsageError
from autograder.sandbox import bwrap
from tests.autograder.helpers import shown


def _no_bwrap():
    raise bwrap.SandboxUnavailable("bubblewrap cannot create namespaces (test)")


def test_refuses_without_sandbox_unless_told(monkeypatch, tmp_path):
    monkeypatch.setattr(bwrap, "find", _no_bwrap)
    (tmp_path / "subs" / "a").mkdir(parents=True)
    with pytest.raises(UsageError, match="--unsafe-no-sandbox"):
        pipeline.grade(tmp_path / "subs", tmp_path / "out", pipeline.Options(progress=False))


def test_output_folder_inside_submissions_is_refused(tmp_path):
    (tmp_path / "subs" / "a").mkdir(parents=True)
    with pytest.raises(UsageError, match="inside the submissions"):
        pipeline.grade(tmp_path / "subs", tmp_path / "subs" / "out",
                       pipeline.Options(progress=False, unsafe=True))


def test_cli_prints_one_line_for_a_usage_error(monkeypatch, capsys, tmp_path):
    from autograder import cli
    monkeypatch.setattr(bwrap, "find", _no_bwrap)
    (tmp_path / "subs" / "a").mkdir(parents=True)
    rc = cli.main(["grade", str(tmp_path / "subs"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "bubblewrap" in err[0]


def test_out_that_is_a_file_is_one_line_exit_2(capsys, tmp_path):
    from autograder import cli
    (tmp_path / "subs" / "a").mkdir(parents=True)
    (tmp_path / "grades.csv").write_text("precious")
    rc = cli.main(["grade", str(tmp_path / "subs"), "--out", str(tmp_path / "grades.csv"),
                   "--unsafe-no-sandbox", "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "is a file" in err[0]
    assert (tmp_path / "grades.csv").read_text() == "precious"


def test_out_inside_a_course_roots_submitted_is_refused_but_beside_it_is_fine(tmp_path):
    (tmp_path / "course" / "submitted" / "a" / "softmax").mkdir(parents=True)
    (tmp_path / "course" / "source").mkdir()
    with pytest.raises(UsageError, match="inside the submissions"):
        pipeline.grade(tmp_path / "course", tmp_path / "course" / "submitted" / "out",
                       pipeline.Options(progress=False, unsafe=True))


def test_out_equal_to_the_course_root_is_refused(tmp_path):
    # OUT is made an nbgrader course itself (nbgrader_config.py, submitted/): never the
    # instructor's own course folder.
    course = tmp_path / "course"
    (course / "submitted" / "a" / "softmax").mkdir(parents=True)
    (course / "nbgrader_config.py").write_text("c = get_config()\n")
    with pytest.raises(UsageError, match="the folder being graded"):
        pipeline.grade(course, course, pipeline.Options(progress=False, unsafe=True))
    assert (course / "nbgrader_config.py").read_text() == "c = get_config()\n"


def test_grade_help_lists_the_layouts(capsys):
    from autograder import cli
    with pytest.raises(SystemExit):
        cli.main(["grade", "--help"])
    out = capsys.readouterr().out
    assert "COURSE_ROOT/submitted/<student>/NAME/NAME.ipynb" in out
    assert "SUBMISSIONS/<student>/NAME.ipynb" in out and "symlink" in out


def test_a_bad_roster_is_one_line_before_any_grading(capsys, tmp_path):
    from autograder import cli
    (tmp_path / "subs" / "a").mkdir(parents=True)
    (tmp_path / "roster.csv").write_text("name\nAda\n")
    rc = cli.main(["grade", str(tmp_path / "subs"), "--out", str(tmp_path / "o"),
                   "--roster", str(tmp_path / "roster.csv"), "--unsafe-no-sandbox",
                   "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "no student_id column" in err[0]
    assert not (tmp_path / "o").exists()


# ------------------------------------------- each student's files are written on their own


def _results():
    from autograder.model import Spec, StudentResult, TestCell, TestResult
    spec = Spec("hw", ("f",), (TestCell("test_f", 2.0, ("c1",), "f"),))
    rs = [StudentResult(sid, "sha", "g", tests=[TestResult("test_f", 2.0, 2.0, True)])
          for sid in ("ann", "bob", "cy")]
    return spec, rs


def test_a_student_whose_files_fail_costs_only_their_files_and_a_rerun_heals(
        monkeypatch, capsys, tmp_path):
    from autograder import report as reports
    spec, results = _results()
    real = reports.write_gradescope

    def broken_for_bob(r, spec, out):
        if r.student_id == "bob":
            raise OSError(28, "No space left on device")
        return real(r, spec, out)

    stale = tmp_path / "gradescope" / "bob" / "results.json"   # from an earlier run
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    monkeypatch.setattr(reports, "write_gradescope", broken_for_bob)
    failed = pipeline.write_outputs(results, spec, tmp_path, gradebook=False)
    assert failed == ["bob"]
    for sid in ("ann", "cy"):
        assert (tmp_path / "feedback" / sid / "hw.html").exists()
        assert (tmp_path / "gradescope" / sid / "results.json").exists()
    # No half of bob's reports: neither this run's feedback nor the earlier run's result.
    assert not stale.exists() and not (tmp_path / "feedback" / "bob" / "hw.html").exists()
    assert len((tmp_path / "grades.csv").read_text().splitlines()) == 4   # every row
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bob" in err[0] and "run the same command again" in err[0]

    monkeypatch.setattr(reports, "write_gradescope", real)
    assert pipeline.write_outputs(results, spec, tmp_path, gradebook=False) == []
    assert (tmp_path / "gradescope" / "bob" / "results.json").exists()


def test_a_student_whose_gradebook_rows_fail_leaves_the_others_recorded(
        monkeypatch, capsys, tmp_path):
    from autograder.record.nbgrader import gradebook, autograded as nbgrader_course
    spec, results = _results()
    real_comments, real_nb = gradebook._comments, nbgrader_course.autograded_notebook

    def comments(r, spec):
        if r.student_id == "bob":
            raise ValueError("a broken row")
        return real_comments(r, spec)

    def notebook(nb, r, spec, **kw):
        if r.student_id == "cy":
            raise ValueError("a broken notebook")
        return real_nb(nb, r, spec, **kw)

    monkeypatch.setattr(gradebook, "_comments", comments)
    monkeypatch.setattr(nbgrader_course, "autograded_notebook", notebook)
    nb = tmp_path / "in" / "hw.ipynb"
    nb.parent.mkdir()
    nb.write_text('{"cells": [{"cell_type": "markdown", "source": "hi", "metadata": {}}],'
                  ' "metadata": {}, "nbformat": 4, "nbformat_minor": 4}')
    out = tmp_path / "out"
    pipeline.write_outputs(results, spec, out,
                           notebooks={r.student_id: shown(nb, spec) for r in results})
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        assert sorted(s.student.id for s in gb.assignment_submissions("hw")) == ["ann", "cy"]
    assert (out / "autograded" / "ann" / "hw" / "hw.ipynb").exists()
    assert not (out / "autograded" / "cy").exists() or not any((out / "autograded" / "cy").rglob("*.ipynb"))
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2, err
    assert any("cy" in e and "autograded notebook" in e for e in err)
    assert any("bob" in e and "gradebook entry" in e for e in err)


def test_a_stored_result_with_invalid_text_loads_as_valid_text(tmp_path):
    """A result cached with lone surrogates (json escapes them) cannot poison later runs."""
    from autograder.model import StudentResult, TestResult
    from autograder.record.store import ResultStore
    store = ResultStore(tmp_path)
    bad = StudentResult("ann", "sha", "g", problem="", tests=[
        TestResult("test_f", 0.0, 2.0, False, "f raised ValueError: \udc80\ud800", None, None)])
    store.save(bad)
    got = store.load("ann", "sha", "g")
    assert got.tests[0].message == "f raised ValueError: \ufffd\ufffd"
    got.tests[0].message.encode("utf-8")


def test_lms_column_without_a_roster_is_one_line(capsys, tmp_path):
    from autograder import cli
    (tmp_path / "subs" / "a").mkdir(parents=True)
    rc = cli.main(["grade", str(tmp_path / "subs"), "--out", str(tmp_path / "o"),
                   "--lms-column", "Softmax (1)", "--unsafe-no-sandbox", "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "needs --roster" in err[0]


class _Timers:
    get = None

    def prestart(self):
        pass


def test_one_read_gives_the_hash_the_store_is_asked_with_and_the_outline(monkeypatch, tmp_path):
    """The notebook is read once: that read's hash finds the stored result, and the outline
    for formgrader's copy comes from the same bytes; a grader failure keeps the outline."""
    import hashlib

    from autograder.assignments.softmax.samples import build, write
    from autograder.record.store import ResultStore, StudentResult
    from autograder.submissions import reader
    from autograder.submissions.discover import find
    spec = pipeline.load_assignment("softmax")[1]
    path = write(tmp_path / "subs", "ann", build())
    (sub,) = find(tmp_path / "subs", "softmax").submissions
    reads = []
    real = reader.read_bytes
    monkeypatch.setattr(reader, "read_bytes", lambda *a, **k: reads.append(a) or real(*a, **k))
    monkeypatch.setattr(reader, "sha256_of", lambda *a, **k: pytest.fail("hashed apart"))
    store = ResultStore(tmp_path / "out")
    stored = StudentResult("ann", hashlib.sha256(path.read_bytes()).hexdigest(), "g")
    store.save(stored)
    kw = dict(assignment=None, spec=spec, grader="g", opts=pipeline.Options(), jail=None)
    graded = pipeline.read_and_grade(sub, store=store, outline=True, timers=_Timers(), **kw)
    assert graded.result == stored and not graded.fresh and len(reads) == 1
    assert graded.shown.folder == path.parent
    assert [c["source"] for c in graded.shown.outline["cells"]][:2] == \
        [c["source"] for c in build()["cells"]][:2]

    def boom(*a, **k):
        raise RuntimeError("a bug")
    monkeypatch.setattr(pipeline, "grade_one", boom)
    graded = pipeline.read_and_grade(sub, store=ResultStore(tmp_path / "other"), outline=True,
                                     timers=_Timers(), **kw)
    assert graded.result.internal_error and not graded.fresh
    assert graded.result.problem == "internal grader error: RuntimeError: a bug"
    assert graded.shown.outline is not None and len(reads) == 2
    graded = pipeline.read_and_grade(sub, store=store, outline=False, timers=_Timers(), **kw)
    assert graded.result == stored and graded.shown.outline is None

"""Pipeline guards that need no grading run."""
import pytest

from autograder import pipeline
from autograder.discover import UsageError
from autograder.sandbox import bwrap


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

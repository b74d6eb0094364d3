import os

import pytest

from autograder.submissions.discover import UsageError, detect_layout, find


def test_both_layouts_and_missing_notebooks(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "softmax.ipynb").write_text("{}")
    (tmp_path / "bob" / "softmax").mkdir(parents=True)
    (tmp_path / "bob" / "softmax" / "softmax.ipynb").write_text("{}")
    (tmp_path / "carol").mkdir()
    (tmp_path / "dave").mkdir()
    (tmp_path / "dave" / "softmax (1).ipynb").write_text("{}")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    subs = {s.student_id: s.notebook for s in find(tmp_path, "softmax").submissions}
    assert set(subs) == {"alice", "bob", "carol", "dave"}
    assert subs["bob"].parent.name == "softmax"
    assert subs["carol"] is None
    assert subs["dave"].name == "softmax (1).ipynb"


def test_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="no such folder"):
        find(tmp_path / "missing", "softmax").submissions
    with pytest.raises(UsageError, match="no submissions"):
        find(tmp_path, "softmax").submissions
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(UsageError, match="not a folder"):
        find(tmp_path / "f.txt", "softmax").submissions


ODD_NAMES = ["a,b", "bad name", "José", ".hidden", "-x", "x<script>", "=cmd|' calc'!A0",
             "n" * 250, "new\nline", "tab\there", "'quoted'", "--help"]


def test_every_folder_is_a_row_whatever_its_name(tmp_path):
    for name in ODD_NAMES:
        (tmp_path / name).mkdir()
        (tmp_path / name / "softmax.ipynb").write_text("{}")
    os.mkdir(os.fsencode(tmp_path) + b"/raw\xff")          # not UTF-8
    (tmp_path / "loose-file.txt").write_text("not a student")
    subs = {s.student_id: s for s in find(tmp_path, "softmax").submissions}
    assert set(subs) == set(ODD_NAMES) | {"raw\\xff"}
    assert all(s.notebook is not None and not s.flag for s in subs.values()
               if s.student_id != "raw\\xff")
    assert subs["new\nline"].notebook == tmp_path / "new\nline" / "softmax.ipynb"


def test_links_fifos_and_oversized_files_are_flagged_at_discovery(tmp_path):
    (tmp_path / "honest").mkdir()
    (tmp_path / "honest" / "softmax.ipynb").write_text("{}")
    (tmp_path / "linked-folder").symlink_to(tmp_path / "honest")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    for name, make in {
        "mem": lambda p: p.symlink_to("/proc/self/mem"),
        "other": lambda p: p.symlink_to("../honest/softmax.ipynb"),
        "fifo": lambda p: os.mkfifo(p),
        "big": lambda p: open(p, "wb").truncate(21 * 1024 * 1024),
        "dir": lambda p: p.mkdir(),
    }.items():
        (tmp_path / name).mkdir()
        make(tmp_path / name / "softmax.ipynb")
    (tmp_path / "nested-link" / "softmax").mkdir(parents=True)
    (tmp_path / "nested-link" / "softmax" / "softmax.ipynb").symlink_to("/etc/passwd")
    subs = {s.student_id: s for s in find(tmp_path, "softmax").submissions}
    flags = {sid: s.flag for sid, s in subs.items()}
    assert flags == {"honest": "", "linked-folder": "symlink", "dangling": "symlink",
                     "mem": "symlink", "other": "symlink", "fifo": "invalid_notebook",
                     "big": "invalid_notebook", "dir": "invalid_notebook",
                     "nested-link": "symlink"}
    for sid, s in subs.items():
        if s.flag:
            assert s.notebook is None and s.problem and "\n" not in s.problem
            assert s.sha256().startswith("refused:")


def test_several_notebooks_under_other_names_is_a_clear_missing(tmp_path):
    (tmp_path / "eve").mkdir()
    (tmp_path / "eve" / "a.ipynb").write_text("{}")
    (tmp_path / "eve" / "b.ipynb").write_text("{}")
    (s,) = find(tmp_path, "softmax").submissions
    assert s.flag == "missing_notebook" and "a.ipynb, b.ipynb" in s.problem


def test_nbgrader_course_root_is_detected(tmp_path):
    for sid in ("alice", "bob"):
        d = tmp_path / "submitted" / sid / "softmax"
        d.mkdir(parents=True)
        (d / "softmax.ipynb").write_text("{}")
    (tmp_path / "submitted" / "carol" / "other-assignment").mkdir(parents=True)
    (tmp_path / "source" / "softmax").mkdir(parents=True)
    root, layout = detect_layout(tmp_path, "softmax")
    assert root == tmp_path / "submitted" and "course root" in layout
    found = find(tmp_path, "softmax")
    assert (found.root, found.layout) == (root, layout)     # detected once, inside find
    subs = {s.student_id: s for s in found.submissions}
    assert set(subs) == {"alice", "bob", "carol"}
    assert subs["alice"].notebook == tmp_path / "submitted" / "alice" / "softmax" / "softmax.ipynb"
    assert subs["carol"].flag == "missing_notebook"


def test_a_student_called_submitted_is_not_a_course_root(tmp_path):
    (tmp_path / "submitted").mkdir()
    (tmp_path / "submitted" / "softmax.ipynb").write_text("{}")
    (tmp_path / "alice").mkdir()
    assert detect_layout(tmp_path, "softmax")[0] == tmp_path
    assert {s.student_id for s in find(tmp_path, "softmax").submissions} == {"submitted", "alice"}


def test_a_folder_of_many_files_is_listed_cheaply(tmp_path):
    (tmp_path / "zipbomb").mkdir()
    for i in range(3000):
        (tmp_path / "zipbomb" / f"f{i}.ipynb").touch()
    (s,) = find(tmp_path, "softmax").submissions
    assert s.flag == "missing_notebook" and "3000 other notebooks" in s.problem
    assert len(s.problem) < 300


def test_problem_lines_stay_one_line_whatever_the_file_names(tmp_path):
    (tmp_path / "eve").mkdir()
    (tmp_path / "eve" / "a\nb.ipynb").mkdir()
    (tmp_path / "mal").mkdir()
    (tmp_path / "mal" / "x\n1.ipynb").write_text("{}")
    (tmp_path / "mal" / "y\r2.ipynb").write_text("{}")
    for s in find(tmp_path, "softmax").submissions:
        assert s.problem and "\n" not in s.problem and "\r" not in s.problem, s


def _nb(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')


def test_students_named_like_nbgrader_folders_are_students(tmp_path):
    # `submitted` (notebook under another name), `feedback` and `source` are students,
    # not the signs of a course root.
    for sid in ("submitted", "feedback", "source", "alice"):
        _nb(tmp_path / sid / ("mine.ipynb" if sid == "submitted" else "softmax.ipynb"))
    ids = [s.student_id for s in find(tmp_path, "softmax").submissions]
    assert ids == ["alice", "feedback", "source", "submitted"]


def test_an_upload_shaped_like_a_course_hides_no_other_student(tmp_path):
    _nb(tmp_path / "submitted" / "bob" / "softmax" / "softmax.ipynb")
    _nb(tmp_path / "alice" / "softmax.ipynb")
    ids = [s.student_id for s in find(tmp_path, "softmax").submissions]
    assert ids == ["alice", "submitted"]


def test_a_real_course_root_is_still_read(tmp_path):
    for sid in ("bob", "carol"):
        _nb(tmp_path / "submitted" / sid / "softmax" / "softmax.ipynb")
    (tmp_path / "source" / "softmax").mkdir(parents=True)
    ids = [s.student_id for s in find(tmp_path, "softmax").submissions]
    assert ids == ["bob", "carol"]


def test_a_checkpoints_folder_is_a_student_unless_it_holds_only_checkpoints(tmp_path, capsys):
    _nb(tmp_path / "alice" / "softmax.ipynb")
    _nb(tmp_path / ".ipynb_checkpoints" / "softmax-checkpoint.ipynb")
    assert [s.student_id for s in find(tmp_path, "softmax").submissions] == ["alice"]
    assert ".ipynb_checkpoints" in capsys.readouterr().err
    _nb(tmp_path / ".ipynb_checkpoints" / "softmax.ipynb")
    assert [s.student_id for s in find(tmp_path, "softmax").submissions] == \
        [".ipynb_checkpoints", "alice"]


def _checkout(root):
    """An instructor's course checkout as the README has it, before `nbgrader collect`."""
    (root / "nbgrader_config.py").write_text(
        'c = get_config()\nc.CourseDirectory.source_directory = "solutions"\n')
    _nb(root / "solutions" / "softmax" / "softmax.ipynb")
    _nb(root / "assignments" / "softmax" / "softmax.ipynb")
    for d in (".git", ".venv", "autograder", "tests", "demo-out"):
        (root / d).mkdir()
    _nb(root / "demo-out" / "submissions" / "perfect" / "softmax.ipynb")


def test_a_course_checkout_after_collect_grades_exactly_the_collected_students(tmp_path):
    _checkout(tmp_path)
    for sid in ("alice", "bob"):
        _nb(tmp_path / "submitted" / sid / "softmax" / "softmax.ipynb")
    root, layout = detect_layout(tmp_path, "softmax")
    assert root == tmp_path / "submitted" and "nbgrader_config.py" in layout
    assert [s.student_id for s in find(tmp_path, "softmax").submissions] == ["alice", "bob"]


def test_the_course_config_names_the_submitted_folder(tmp_path):
    _checkout(tmp_path)
    (tmp_path / "nbgrader_config.py").write_text(
        'c = get_config()\nc.CourseDirectory.submitted_directory = "collected"\n')
    _nb(tmp_path / "collected" / "carol" / "softmax" / "softmax.ipynb")
    _nb(tmp_path / "submitted" / "mallory" / "softmax" / "softmax.ipynb")
    assert [s.student_id for s in find(tmp_path, "softmax").submissions] == ["carol"]


def test_a_course_with_nothing_collected_is_one_clear_line(tmp_path):
    _checkout(tmp_path)
    with pytest.raises(UsageError, match=r"nbgrader collect softmax"):
        find(tmp_path, "softmax").submissions


def test_a_config_that_reaches_outside_the_course_is_not_followed(tmp_path):
    _checkout(tmp_path)
    (tmp_path / "nbgrader_config.py").write_text(
        'c.CourseDirectory.submitted_directory = "../elsewhere"\n')
    _nb(tmp_path / "submitted" / "alice" / "softmax" / "softmax.ipynb")
    assert [s.student_id for s in find(tmp_path, "softmax").submissions] == ["alice"]


def test_adversarial_names_in_a_plain_folder_still_each_get_a_row(tmp_path):
    # No nbgrader_config.py file: students named after nbgrader's folders, or after its
    # config file (a folder, not the file), are students, however they are laid out.
    _nb(tmp_path / "submitted" / "bob" / "softmax" / "softmax.ipynb")
    _nb(tmp_path / "source" / "softmax" / "softmax.ipynb")
    _nb(tmp_path / "nbgrader_config.py" / "softmax.ipynb")
    _nb(tmp_path / ".git" / "softmax.ipynb")
    _nb(tmp_path / "alice" / "softmax.ipynb")
    ids = [s.student_id for s in find(tmp_path, "softmax").submissions]
    assert ids == [".git", "alice", "nbgrader_config.py", "source", "submitted"]


def test_a_linked_config_file_makes_no_course(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "cfg.py").write_text("c = get_config()\n")
    _nb(tmp_path / "alice" / "softmax.ipynb")
    _nb(tmp_path / "submitted" / "softmax.ipynb")
    (tmp_path / "nbgrader_config.py").symlink_to(tmp_path / "elsewhere" / "cfg.py")
    subs = {s.student_id: s for s in find(tmp_path, "softmax").submissions}
    # The link is an entry like any other: a row of its own, flagged, never followed.
    assert sorted(subs) == ["alice", "elsewhere", "nbgrader_config.py", "submitted"]
    assert subs["nbgrader_config.py"].flag == "symlink"


def test_the_course_around_a_submitted_folder_is_found(tmp_path):
    from autograder.submissions.discover import enclosing_course
    course = tmp_path / "course"
    student = course / "submitted" / "ann"
    student.mkdir(parents=True)
    assert enclosing_course(course / "submitted") is None
    (course / "nbgrader_config.py").write_text("c = get_config()\n")
    assert enclosing_course(course / "submitted") == course.resolve()
    assert enclosing_course(student) == course.resolve()
    # A link named nbgrader_config.py is no course; a folder further up is not looked for.
    (course / "nbgrader_config.py").unlink()
    (course / "nbgrader_config.py").symlink_to(tmp_path / "elsewhere.py")
    (tmp_path / "elsewhere.py").write_text("")
    assert enclosing_course(course / "submitted") is None
    assert enclosing_course(student / "softmax" / "deeper") is None

"""`grade --roster`: the LMS files from the CLI, with a missing and an extra student."""
import csv

import pytest

from autograder.assignments.softmax.samples import build, mistake_overrides, write

from .conftest import read_grades, run_grader

pytestmark = pytest.mark.slow


def _read(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_roster_gives_canvas_and_moodle_files_and_misses_nobody(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    write(subs, "ada", build())
    write(subs, "bob", build(mistake_overrides("softmax_no_max")))
    write(subs, "mallory", build())                    # in no roster entry
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name,canvas_id,email,username\n"
                      "ada,\"Lovelace, Ada\",101,ada@uni.edu,ada\n"
                      "bob,\"Babbage, Bob\",102,bob@uni.edu,bob\n"
                      "cy,\"Cy, Cy\",103,cy@uni.edu,cy\n")   # cy submitted nothing
    r = run_grader("grade", subs, "--out", out, "--no-progress", "--roster", roster,
                   "--lms-column", "Softmax (4711)")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "roster: 1 student(s) with no submission (0 points, flag no_submission): cy" in r.stderr
    assert "roster: 1 submission(s) not in the roster" in r.stderr and "mallory" in r.stderr

    grades = read_grades(out)
    assert set(grades) == {"ada", "bob", "cy", "mallory"}
    assert grades["cy"]["flags"] == "no_submission" and float(grades["cy"]["score"]) == 0
    bob = grades["bob"]["score"]          # the grader's score: the LMS files must carry it
    assert 0 < float(bob) < 20

    canvas = _read(out / "canvas_grades.csv")
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                         "Softmax (4711)"]
    assert canvas[1][0] == "Points Possible" and canvas[1][-1] == "20"
    assert [(row[1], row[-1]) for row in canvas[2:]] == [("101", "20"), ("102", bob),
                                                         ("103", "0")]
    moodle = _read(out / "moodle_grades.csv")
    assert moodle[0] == ["First name", "Last name", "ID number", "Email address", "Username",
                         "Softmax (4711)"]
    assert [(row[3], row[-1]) for row in moodle[1:]] == [("ada@uni.edu", "20"),
                                                         ("bob@uni.edu", bob), ("cy@uni.edu", "0")]
    check = {row[0]: row[1] for row in _read(out / "roster_check.csv")[1:]}
    assert check == {"ada": "graded", "bob": "graded", "cy": "no_submission",
                     "mallory": "not_in_roster"}
    # The report counts the roster student who sent nothing among the flagged.
    page = (out / "class_report.html").read_text()
    assert 'id="n-students">4<' in page and "no_submission" in page
    assert (out / "feedback" / "cy" / "softmax.html").exists()
    # nbgrader's gradebook has the three submissions, as nbgrader would.
    assert not (out / "autograded" / "cy").exists()
    assert sorted(p.name for p in (out / "submitted").iterdir()) == ["ada", "bob", "mallory"]

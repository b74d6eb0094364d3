"""Canvas's and Moodle's gradebook-import CSVs from a roster."""
import csv
import io

import pytest

from autograder.model import Spec, TestCell
from autograder.report import lms
from autograder.model import StudentResult, TestResult

SPEC = Spec("softmax", ("f",), (TestCell("test_f", 2.0, ("c",), "f"),
                                   TestCell("test_g", 3.0, ("d",), "f")))


def result(sid, f, g):
    return StudentResult(sid, "", "", tests=[TestResult("test_f", f, 2.0, f == 2.0),
                                             TestResult("test_g", g, 3.0, g == 3.0)])


def roster_file(tmp_path, text):
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    return path


ROSTER = """student_id,name,canvas_id,sis_user_id,sis_login_id,section,first_name,last_name,email,username,idnumber
ada,"Lovelace, Ada",101,S1,ada@uni,Sec A,Ada,Lovelace,ada@uni.edu,ada,N1
bob,"Babbage, Bob",102,S2,bob@uni,Sec A,Bob,Babbage,bob@uni.edu,bob,N2
cy,"=HYPERLINK(""http://x""), Cy",103,S3,cy@uni,Sec B,Cy,=cmd|' /C calc'!A0,cy@uni.edu,cy,N3
"""


def rows(text):
    return list(csv.reader(io.StringIO(text)))


def matched(tmp_path):
    roster = lms.read_roster(roster_file(tmp_path, ROSTER))
    # ada and cy submitted; bob did not; mallory is in no roster entry.
    return lms.match(roster, [result("ada", 2.0, 3.0), result("cy", 2.0, 0.0),
                              result("mallory", 2.0, 3.0)])


def test_canvas_file_has_canvas_headers_a_points_row_and_every_roster_student(tmp_path):
    got = rows(lms.canvas_csv(matched(tmp_path), SPEC, column="Softmax (4711)"))
    assert got[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Softmax (4711)"]
    assert got[1] == ["Points Possible", "", "", "", "", "5"]
    assert got[2] == ["Lovelace, Ada", "101", "S1", "ada@uni", "Sec A", "5"]
    # bob sent nothing: a row with 0. mallory is in no LMS file.
    assert got[3] == ["Babbage, Bob", "102", "S2", "bob@uni", "Sec A", "0"]
    assert [r[1] for r in got[2:]] == ["101", "102", "103"]
    assert "mallory" not in lms.canvas_csv(matched(tmp_path), SPEC, column="x")


def test_moodle_file_has_moodle_export_headers_and_only_roster_students(tmp_path):
    got = rows(lms.moodle_csv(matched(tmp_path), SPEC, column="softmax"))
    assert got[0] == ["First name", "Last name", "ID number", "Email address", "Username",
                      "softmax"]
    assert got[1] == ["Ada", "Lovelace", "N1", "ada@uni.edu", "ada", "5"]
    assert got[2] == ["Bob", "Babbage", "N2", "bob@uni.edu", "bob", "0"]
    assert len(got) == 4


def test_no_cell_starts_a_formula(tmp_path):
    for text in (lms.canvas_csv(matched(tmp_path), SPEC, column="=x"),
                 lms.moodle_csv(matched(tmp_path), SPEC, column="softmax"),
                 lms.check_csv(matched(tmp_path), SPEC)):
        for row in rows(text):
            assert not any(c.startswith(("=", "+", "-", "@")) for c in row), row
    got = rows(lms.moodle_csv(matched(tmp_path), SPEC, column="softmax"))
    assert got[3][1] == "'=cmd|' /C calc'!A0"


def test_roster_check_lists_missing_and_extra_students(tmp_path):
    got = rows(lms.check_csv(matched(tmp_path), SPEC))
    assert got[0] == list(lms.CHECK_HEADER)
    status = {r[0]: r[1] for r in got[1:]}
    assert status == {"ada": "graded", "bob": "no_submission", "cy": "graded",
                      "mallory": "not_in_roster"}


def test_missing_students_get_a_zero_row_with_a_flag():
    entry = lms.RosterEntry("bob")
    r = lms.no_submission_result(entry, SPEC, "g")
    assert r.score == 0 and r.max_score == 5 and r.flags == ["no_submission"]
    assert [t.grade_id for t in r.tests] == ["test_f", "test_g"]


@pytest.mark.parametrize("text, message", [
    ("name,email\nAda,a@x\n", "no student_id column"),
    ("student_id,colour\nada,red\n", r"unknown column\(s\) colour"),
    ("student_id\nada\nada\n", "appears twice"),
    ("student_id,name\n,Ada\n", "line 2: no student_id"),
    ("student_id\n", "lists no student"),
])
def test_a_bad_roster_is_one_line(tmp_path, text, message):
    with pytest.raises(lms.RosterError, match=message) as e:
        lms.read_roster(roster_file(tmp_path, text))
    assert "\n" not in str(e.value)


def test_roster_reads_excel_utf8_with_bom_and_refuses_other_encodings(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes("\ufeffstudent_id,name\njosé,\"Núñez, José\"\n".encode("utf-8"))
    (entry,) = lms.read_roster(path)
    assert entry.student_id == "josé" and entry.name == "Núñez, José"
    path.write_bytes("student_id\njos\xe9\n".encode("latin-1"))
    with pytest.raises(lms.RosterError, match="not UTF-8"):
        lms.read_roster(path)

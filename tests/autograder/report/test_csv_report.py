"""grades.csv keeps every student id, with formula-looking cells neutralised."""
import csv
from types import SimpleNamespace

from autograder.report.csv_report import write_grades_csv
from autograder.untrusted import csv_cell as neutralise
from autograder.model import StudentResult, TestResult

SPEC = SimpleNamespace(tests=[SimpleNamespace(grade_id="test_a", points=2.0)], max_score=2.0)


def test_formula_cells_get_a_quote_and_everything_else_is_kept(tmp_path):
    ids = ["alice", "=cmd|' calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", " =1",
           "a,b", "new\nline", 'say "hi"', "José", "x<script>"]
    results = [StudentResult(sid, "", "", tests=[TestResult("test_a", 2.0, 2.0, True)])
               for sid in ids]
    write_grades_csv(results, SPEC, tmp_path / "grades.csv")
    with open(tmp_path / "grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    got = {r["student_id"] for r in rows}
    assert got == {neutralise(i) for i in ids} and len(rows) == len(ids)
    for r in rows:
        assert not r["student_id"].startswith(("=", "+", "-", "@", "\t", "\r"))
        assert r["score"] == "2" and r["test_a"] == "2"
    assert {"alice", "a,b", "new\nline", 'say "hi"', "José", "x<script>"} <= got
    text = (tmp_path / "grades.csv").read_text()
    assert "\"'=cmd|' calc'!A0\"" in text             # quoted as well as prefixed


def test_neutralise():
    assert neutralise("=1") == "'=1" and neutralise("a=1") == "a=1" and neutralise("") == ""

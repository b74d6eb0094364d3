"""The class report and mistakes.csv, from StudentResults made by hand."""
import csv
import html
import re

from autograder.model import Spec, TestCell
from autograder.report import class_report
from autograder.report.csv_report import write_grades_csv
from autograder.model import StudentResult, TestResult
from autograder.record.store import safe_name

SPEC = Spec("hw", ("f", "g"), (TestCell("test_f", 2.0, ("c",), "f"),
                                    TestCell("test_g", 3.0, ("d",), "g")))
HINTS = {"off_by_one": "Check the loop bounds.", "sign": "Check the sign."}


def t(gid, points, max_points, mistake=None):
    passed = points == max_points
    return TestResult(gid, points, max_points, passed, "" if passed else "wrong",
                      None if passed else mistake, HINTS.get(mistake) if not passed else None)


def result(sid, f, g, *, mf=None, mg=None, flags=(), problem="", secs=1.0):
    return StudentResult(sid, "", "", tests=[t("test_f", f, 2.0, mf), t("test_g", g, 3.0, mg)],
                         flags=list(flags), problem=problem,
                         timings={"start_and_cells": secs / 2, "test_f": secs / 2})


HOSTILE = '<img src=x onerror="alert(1)">\n=cmd|\' /C calc\'!A0'
CLASS = [
    result("ada", 2.0, 3.0, secs=1.0),
    result("bob", 0.0, 3.0, mf="off_by_one", secs=3.0),
    result("cy", 0.0, 0.0, mf="off_by_one", mg="sign", secs=2.0),
    result("dee", 0.0, 0.0, mf="sign", flags=["timeout"], secs=9.0),
    result(HOSTILE, 2.0, 0.0, flags=["tampering"], problem="", secs=0.5),
    result("eve", 0.0, 0.0, flags=["invalid_notebook"],
           problem="the notebook could not be read (bad JSON)", secs=0.0),
]


def test_counts_mistakes_most_frequent_first_and_names_the_students():
    s = class_report.summarise(CLASS, SPEC)
    f, g = s.tests
    assert (f.passed, f.failed) == (2, 4) and (g.passed, g.failed) == (2, 4)
    assert [(m.mistake, [st.student_id for st in m.students]) for m in f.mistakes] == \
        [("off_by_one", ["bob", "cy"]), ("sign", ["dee"]), (None, ["eve"])]
    assert f.mistakes[0].hint == "Check the loop bounds."
    # A tie is broken by name; the unnamed group is last whatever its size.
    assert [m.mistake for m in g.mistakes] == ["sign", None]
    assert [st.student_id for st in g.mistakes[1].students] == sorted(["dee", "eve", HOSTILE])


def test_flags_are_split_into_run_problems_and_the_rest_and_the_slowest_listed():
    s = class_report.summarise(CLASS, SPEC)
    assert [x.student.student_id for x in s.run_problems] == ["dee"]
    assert [x.student.student_id for x in s.flagged] == sorted([HOSTILE, "eve"])
    eve = next(x for x in s.flagged if x.student.student_id == "eve")
    assert eve.flags == ("invalid_notebook",) and "bad JSON" in " ".join(eve.reasons)
    assert [st.student_id for st, _ in s.slowest][:3] == ["dee", "bob", "cy"]
    assert len(s.slowest) == class_report.SLOWEST


def test_counts_agree_with_grades_csv(tmp_path):
    write_grades_csv(CLASS, SPEC, tmp_path / "grades.csv")
    with open(tmp_path / "grades.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    s = class_report.summarise(CLASS, SPEC)
    for cell, summary in zip(SPEC.tests, s.tests):
        assert summary.passed == sum(float(r[cell.grade_id]) == cell.points for r in rows)
    assert len(s.flagged) + len(s.run_problems) == sum(bool(r["flags"]) for r in rows)


def test_the_page_escapes_student_strings_and_links_each_feedback(tmp_path):
    class_report.write_class_report(CLASS, SPEC, tmp_path / "class_report.html")
    page = (tmp_path / "class_report.html").read_text()
    assert "<img src=x" not in page and "&lt;img src=x" in page
    assert "<script" not in page and "Content-Security-Policy" in page
    links = re.findall(r'href="(feedback/[^"]*)"', page)
    assert "feedback/bob/hw.html" in links
    hostile = next(l for l in links if l not in {f"feedback/{x}/hw.html" for x in
                                                 ("ada", "bob", "cy", "dee", "eve")})
    # The link is the quoted safe name: no quote, no space, no angle bracket in it.
    import urllib.parse
    assert urllib.parse.unquote(html.unescape(hostile)) == f"feedback/{safe_name(HOSTILE)}/hw.html"
    assert not set(hostile) & set("<> \"'\n")
    # Both plots are embedded, nothing is fetched.
    assert page.count('src="data:image/png;base64,') == 2
    assert "Check the loop bounds." in page and "failed, no mistake named" in page


def test_mistakes_csv_has_a_row_per_failed_test_and_neutralises_formulas(tmp_path):
    class_report.write_mistakes_csv(CLASS, SPEC, tmp_path / "mistakes.csv")
    with open(tmp_path / "mistakes.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == list(class_report.MISTAKES_HEADER)
    body = rows[1:]
    failed = sum(not x.passed for r in CLASS for x in r.tests)
    assert len(body) == failed == 8
    assert ["bob", "test_f", "off_by_one", "2"] in body
    assert ["eve", "test_g", "", "3"] in body
    hostile_rows = [r for r in body if "calc" in r[0]]
    assert hostile_rows and all(r[0].startswith("'<img") or r[0].startswith("<img")
                                for r in hostile_rows)
    # No cell of a student's row starts a formula.
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in body for cell in r)


def test_a_formula_id_is_quoted_in_the_csv(tmp_path):
    results = [result("=HYPERLINK(\"http://x\")", 0.0, 3.0, mf="sign"), result("ok", 2.0, 3.0)]
    class_report.write_mistakes_csv(results, SPEC, tmp_path / "m.csv")
    with open(tmp_path / "m.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[1][0] == "'=HYPERLINK(\"http://x\")"

"""The class report as an instructor meets it: OUT/class_report.html in a real browser.

The demo class (the assignment's sample submissions) plus one student whose
folder name is markup is graded by the CLI; headless Chromium opens the report
from disk and every count it shows is compared with grades.csv.
"""
import csv
import shutil
import urllib.parse
from pathlib import Path

import pytest

from autograder.assignments.softmax import ASSIGNMENT

from .conftest import read_grades, run_grader
from .test_browser import _shot, browser  # noqa: F401  (the fixture: headless Chromium)

pytestmark = pytest.mark.slow

from selenium.webdriver.common.by import By  # noqa: E402

HOSTILE = "<img src=x onerror=\"document.title='pwned'\">"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("class")
    subs, out = tmp / "subs", tmp / "out"
    ASSIGNMENT.samples(subs)
    shutil.copytree(subs / "softmax-no-max", subs / HOSTILE)
    r = run_grader("grade", subs, "--out", out, "--no-progress")
    assert r.returncode == 0, r.stderr[-3000:]
    return out


def _cells(row):
    return [td.text for td in row.find_elements(By.TAG_NAME, "td")]


def test_the_report_renders_and_its_counts_are_those_of_grades_csv(browser, graded):  # noqa: F811
    rows = read_grades(graded)
    page = graded / "class_report.html"
    browser.get(page.as_uri())
    _shot(browser, "class-report")
    assert browser.title == "softmax: class report"
    assert int(browser.find_element(By.ID, "n-students").text) == len(rows) == 9
    assert int(browser.find_element(By.ID, "n-flagged").text) == \
        sum(bool(r["flags"]) for r in rows.values())

    # Both plots are drawn (decoded images, not broken ones).
    images = browser.find_elements(By.TAG_NAME, "img")
    assert len(images) == 2
    assert all(browser.execute_script("return arguments[0].complete && "
                                      "arguments[0].naturalWidth > 100", i) for i in images)

    # Score distribution: one line per score, counts as in grades.csv.
    shown = {float(r.get_attribute("data-score")): int(_cells(r)[1])
             for r in browser.find_elements(By.CSS_SELECTOR, "#score-counts tbody tr")}
    from collections import Counter
    assert shown == Counter(float(r["score"]) for r in rows.values())

    # Per test: passed = students with the test's full points in grades.csv.
    from autograder.assignment import load_spec
    spec = load_spec(ASSIGNMENT)
    table = {r.get_attribute("data-test"): _cells(r)
             for r in browser.find_elements(By.CSS_SELECTOR, "#tests tbody tr")}
    assert list(table) == [t.grade_id for t in spec.tests]
    for cell in spec.tests:
        passed = sum(float(r[cell.grade_id]) == cell.points for r in rows.values())
        assert int(table[cell.grade_id][2]) == passed, cell.grade_id
        assert int(table[cell.grade_id][3]) == len(rows) - passed, cell.grade_id

    # Per test, the mistakes: most frequent first, counts adding up to the failures,
    # and the same (student, test, mistake) rows as mistakes.csv.
    with open(graded / "mistakes.csv", newline="") as f:
        listed = {(r["student_id"], r["test"], r["mistake"]) for r in csv.DictReader(f)}
    seen = set()
    for section in browser.find_elements(By.CSS_SELECTOR, "section.test"):
        gid = section.get_attribute("id")
        groups = section.find_elements(By.CSS_SELECTOR, ".mistake")
        counts = [int(g.find_element(By.CSS_SELECTOR, ".count").text) for g in groups]
        named = [c for g, c in zip(groups, counts) if g.get_attribute("data-mistake")]
        assert named == sorted(named, reverse=True)
        assert sum(counts) == int(table[gid][3])
        for g in groups:
            for a in g.find_elements(By.CSS_SELECTOR, "ul.students a"):
                seen.add((a.text, gid, g.get_attribute("data-mistake")))
    assert seen == listed
    assert ("softmax-no-max", "test_softmax", "no_max_subtraction") in seen
    assert (HOSTILE, "test_softmax", "no_max_subtraction") in seen

    # The markup in a student's folder name is shown as text, never run.
    assert browser.title != "pwned"
    assert not browser.find_elements(By.CSS_SELECTOR, "img[src=x]")


def test_each_student_link_opens_their_feedback(browser, graded):  # noqa: F811
    browser.get((graded / "class_report.html").as_uri())
    links = {a.text: a.get_attribute("href")
             for a in browser.find_elements(By.CSS_SELECTOR, "ul.students a")}
    assert HOSTILE in links and "blank" in links
    for student, href in links.items():
        target = Path(urllib.parse.unquote(urllib.parse.urlparse(href).path))
        assert target.is_file() and graded / "feedback" in target.parents, (student, href)
    browser.get(links[HOSTILE])
    assert "feedback for " + HOSTILE in browser.find_element(By.TAG_NAME, "h1").text
    assert browser.title != "pwned"

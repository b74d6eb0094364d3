"""Stored XSS, tried as the instructor meets it: no student script runs in any page (issue 15).

Submissions carry script in Markdown cells, raw cells, attachments, saved outputs,
exception messages and a folder name (tests/e2e/adversarial/sinks.py; each payload, if it
runs, records its name in `top.__xss` and renames the page). They are graded with a
gradebook, then opened in headless Chromium where an instructor or student opens them:
formgrader's submission page (JupyterLab served in OUT, as the README says), our feedback
pages, the class report, and nbgrader's own feedback (`generate_feedback`, which renders
our comments as Markdown). In every page: no payload ran, no live element carries one, and
the student's own text is still shown.
"""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .adversarial import sinks
from .test_browser import Lab, _shot, browser  # noqa: F401  (browser: a fixture)

pytestmark = pytest.mark.slow

from selenium.common.exceptions import NoAlertPresentException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

STUDENTS = {"xss-markdown": sinks.xss_markdown, "xss-raw-attachments": sinks.xss_raw_and_attachments,
            "xss-outputs": sinks.xss_outputs, "xss-messages": sinks.xss_messages}
FOLDER_PAYLOAD = f"<img src=x onerror={sinks.js('folder-name').replace(' ', '')}>"
SETTLE_S = 1.5      # time for a payload's handler (onerror, onload, ontoggle) to fire

# Live elements that would run a payload: an event handler or a script URL with the mark,
# a script element holding it, an iframe's own document.
LIVE = """
const bad = [];
for (const el of document.querySelectorAll('*')) {
  for (const a of el.attributes) {
    const n = a.name.toLowerCase(), v = a.value.toLowerCase().replace(/\\s/g, '');
    if (n.startsWith('on') && v.includes('__xss')) bad.push(el.tagName + ' ' + n);
    if (['href', 'src', 'action', 'data', 'formaction', 'xlink:href'].includes(n)
        && v.startsWith('javascript:')) bad.push(el.tagName + ' ' + n + '=' + v.slice(0, 40));
    if (n === 'srcdoc') bad.push(el.tagName + ' srcdoc');
  }
  if (el.tagName === 'SCRIPT' && el.textContent.includes('__xss')) bad.push('SCRIPT');
  if (['OBJECT', 'EMBED', 'BASE'].includes(el.tagName)) bad.push(el.tagName);
}
return bad;
"""


def assert_no_script_ran(driver, where):
    time.sleep(SETTLE_S)
    try:
        alert = driver.switch_to.alert
        text = alert.text
        alert.dismiss()
        raise AssertionError(f"{where}: an alert opened: {text}")
    except NoAlertPresentException:
        pass
    ran = driver.execute_script(f"return window.top.{sinks.MARK} || null")
    assert ran is None, f"{where}: student script ran: {ran}"
    assert not driver.title.startswith("pwned"), f"{where}: title {driver.title!r}"
    live = driver.execute_script(LIVE)
    assert not live, f"{where}: live payloads in the page: {live[:10]}"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    from autograder.assignments.softmax.samples import build, write

    from .conftest import run_grader
    base = tmp_path_factory.mktemp("xss")
    subs, out = base / "subs", base / "out"
    write(subs, "perfect", build())
    for sid, make in STUDENTS.items():
        write(subs, sid, make())
    write(subs, FOLDER_PAYLOAD, sinks.xss_messages())
    r = run_grader("grade", subs, "--out", out, "--no-progress", "--timeout", "8",
                   "--gradebook", "yes")
    assert r.returncode == 0, r.stderr[-3000:]
    return out


def test_the_check_sees_a_payload_that_runs(browser, tmp_path):
    """The page check is not blind: an unsanitised payload in a page fails it."""
    page = tmp_path / "unsafe.html"
    page.write_text(f"<!doctype html><body>{sinks.MARKDOWN['md-img-onerror']}</body>")
    browser.get(page.as_uri())
    with pytest.raises(AssertionError, match="student script ran"):
        assert_no_script_ran(browser, "unsafe.html")


def test_formgrader_runs_no_student_script(browser, graded):
    server = Lab(graded)
    try:
        wait = WebDriverWait(browser, 60)
        server.login(browser, "/formgrader/gradebook/softmax/softmax")
        wait.until(EC.presence_of_element_located((By.XPATH, "//td[contains(., 'Submission #')]")))
        browser.find_element(By.XPATH, "//button[normalize-space()='Show All Names']").click()
        links = {}
        for sid in STUDENTS:
            wait.until(EC.presence_of_element_located((By.XPATH, f"//td[contains(., '{sid}')]")))
            row = browser.find_element(By.XPATH, f"//tr[td[contains(., '{sid}')]]")
            links[sid] = row.find_element(
                By.XPATH, ".//a[contains(., 'Submission #')]").get_attribute("href")
        assert_no_script_ran(browser, "formgrader's submission list")
        for sid, href in links.items():
            browser.get(href)
            wait.until(EC.presence_of_element_located(
                (By.XPATH, "//*[contains(text(), 'autograder: test_softmax')]")))
            _shot(browser, f"formgrader-{sid}")
            assert_no_script_ran(browser, f"formgrader, {sid}")
            body = browser.find_element(By.TAG_NAME, "body").text
            if sid == "xss-markdown":
                # The answer is rendered (a heading, bold), the payloads shown or dropped.
                assert sinks.VISIBLE in body
                heading = browser.find_element(By.XPATH, f"//h2[contains(., 'XSS-SUITE')]")
                assert heading.is_displayed()
                assert browser.find_elements(By.XPATH, "//strong[normalize-space()='bold']")
            if sid == "xss-raw-attachments":
                assert "<script>top.__xss" in body       # a raw cell is its text
            if sid == "xss-messages":
                # Our hints still reach formgrader's comment boxes.
                boxes = browser.find_elements(By.CSS_SELECTOR, "textarea")
                assert any("raised ValueError" in (b.get_attribute("placeholder") or "")
                           for b in boxes)
    finally:
        server.close()


def _pages(out):
    return sorted((out / "feedback").rglob("*.html")) + [out / "class_report.html"]


def test_feedback_pages_and_the_class_report_run_no_student_script(browser, graded):
    pages = _pages(graded)
    assert len(pages) == len(STUDENTS) + 3
    for page in pages:
        browser.get(page.as_uri())
        assert_no_script_ran(browser, str(page.relative_to(graded)))
    browser.get((graded / "feedback" / "xss-messages" / "softmax.html").as_uri())
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "raised ValueError: <script>top.__xss" in body      # shown as text


def test_nbgraders_own_feedback_runs_no_student_script(browser, graded):
    """`nbgrader generate_feedback` renders our autograded notebooks and, as Markdown,
    our comments: run in OUT as the README says, its pages run nothing either."""
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep
               + os.environ.get("PATH", ""))
    r = subprocess.run([sys.executable, "-m", "nbgrader", "generate_feedback", "softmax"],
                       cwd=graded, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    pages = sorted((graded / "nbgrader_feedback").rglob("softmax.html"))
    assert {p.parent.parent.name for p in pages} >= set(STUDENTS)
    for page in pages:
        browser.get(page.as_uri())
        assert_no_script_ran(browser, str(page.relative_to(graded)))

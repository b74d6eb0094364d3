"""What a student sees, in a real browser: JupyterLab's Validate dialog and a feedback page.

Headless Chromium (Debian's `chromium` + `chromium-driver`, installed by
`.ci/run`) drives JupyterLab on 127.0.0.1 with the student configuration of
`student-config/`: the student types an exercise, presses Validate and reads
the dialog; then opens a grader feedback page as rendered.
"""
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from autograder.assignments.softmax import ASSIGNMENT, REPO

pytestmark = pytest.mark.slow

# Debian's packages by default; a runner with its own Chrome names it in the environment.
CHROMIUM = os.environ.get("CHROME_BINARY") or shutil.which("chromium") \
    or shutil.which("chromium-browser")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver")
SCREENSHOTS = Path(os.environ["BROWSER_SCREENSHOTS"]) if os.environ.get("BROWSER_SCREENSHOTS") else None

selenium = pytest.importorskip("selenium", reason="selenium is in the dev extra")
if not (CHROMIUM and CHROMEDRIVER):
    pytest.skip("Chromium and chromedriver are not installed (Debian: apt-get install "
                "chromium chromium-driver; .ci/run does it)", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-profile")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--window-size=1400,1000",
                 f"--user-data-dir={profile}"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab as a student runs it: the release in a folder of their own."""
    home = tmp_path_factory.mktemp("student")
    shutil.copytree(ASSIGNMENT.release.parent, home / "softmax",
                    ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    shutil.copy(REPO / "nbgrader_config.py", home / "nbgrader_config.py")
    port, token = _free_port(), os.urandom(12).hex()
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(REPO / "student-config"),
               JUPYTER_RUNTIME_DIR=str(home / ".runtime"), HOME=str(home),
               PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    log = open(home / "lab.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
         "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
         "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={home}", "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("JupyterLab did not start: " + (home / "lab.log").read_text()[-2000:])
            time.sleep(0.5)
    yield {"base": base, "token": token, "home": home}
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def _shot(driver, name):
    if SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


def _solution_editor(driver, grade_id):
    """The CodeMirror editor of the exercise cell whose source defines grade_id."""
    for cell in driver.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-CodeCell"):
        text = cell.find_element(By.CSS_SELECTOR, ".cm-content").text
        if text.lstrip().startswith(f"def {grade_id}("):
            return cell.find_element(By.CSS_SELECTOR, ".cm-content")
    raise AssertionError(f"no exercise cell for {grade_id}")


def _type_cell(driver, editor, lines):
    """Type code as a student would: select the cell's text, type over it.

    Lines are typed without their leading spaces: the editor indents after a
    colon and keeps the indentation on the next line, as it does for a person.
    """
    editor.click()
    editor.send_keys(Keys.CONTROL, "a")
    editor.send_keys(Keys.DELETE)
    for i, line in enumerate(lines):
        if i:
            editor.send_keys(Keys.ENTER)
        editor.send_keys(line.strip())


def _validate(driver, wait):
    """Save, press Validate, return the dialog's text and close it."""
    body = driver.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.CONTROL, "s")
    _shot(driver, "typed")
    button = wait.until(EC.element_to_be_clickable(
        (By.XPATH, "//*[contains(@class, 'jp-Toolbar')]//*[normalize-space(text())='Validate']")))
    button.click()
    dialog = WebDriverWait(driver, 240).until(
        EC.visibility_of_element_located((By.CSS_SELECTOR, ".jp-Dialog-content")))
    text = dialog.text
    _shot(driver, "validate")
    dialog.find_element(By.CSS_SELECTOR, ".jp-Dialog-footer button").click()
    wait.until(EC.invisibility_of_element_located((By.CSS_SELECTOR, ".jp-Dialog-content")))
    return text


def test_validate_in_jupyterlab_reports_the_exercise_verdict(browser, lab):
    wait = WebDriverWait(browser, 90)
    browser.get(f"{lab['base']}/lab/tree/softmax/softmax.ipynb?token={lab['token']}")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".jp-Notebook .jp-CodeCell")))
    wait.until(lambda d: any(e.text.lstrip().startswith("def softmax(")
                             for e in d.find_elements(By.CSS_SELECTOR, ".jp-CodeCell .cm-content")))
    # The student's JupyterLab hides the instructor tools.
    assert not browser.find_elements(By.XPATH, "//*[normalize-space()='Formgrader']")

    # A classic first attempt: no maximum subtracted.
    _type_cell(browser, _solution_editor(browser, "softmax"), [
        "def softmax(x):",
        "    e = np.exp(x)",
        "    return e / np.sum(e, axis=-1, keepdims=True)"])
    verdict = _validate(browser, wait)
    # The failing assert's whole message, advice included, is in the dialog.
    assert ("AssertionError: softmax([1000, 1000]) should be [0.5, 0.5], got [nan nan]: "
            "subtract the maximum score before np.exp.") in verdict, verdict[:3000]

    # Fixed: the softmax check passes; Validate now stops at the next exercise.
    _type_cell(browser, _solution_editor(browser, "softmax"), [
        "def softmax(x):",
        "    e = np.exp(x - np.max(x, axis=-1, keepdims=True))",
        "    return e / np.sum(e, axis=-1, keepdims=True)"])
    verdict = _validate(browser, wait)
    assert "AssertionError: softmax(" not in verdict, verdict[:3000]
    # The first cell that fails is now the next exercise's check.
    first_failure = verdict.split("The following cell failed:", 2)[1]
    assert "softmax_backward(np.array([1.0, 0.0]), y)" in first_failure
    assert "NotImplementedError" in first_failure
    saved = (lab["home"] / "softmax" / "softmax.ipynb").read_text()
    assert "np.max(x, axis=-1, keepdims=True)" in saved


def test_feedback_page_as_the_student_sees_it(browser, tmp_path):
    from autograder.assignment import load_spec
    from autograder.reports import write_feedback
    from autograder.results import StudentResult, TestResult

    spec = load_spec(ASSIGNMENT)
    tests = [TestResult(t.grade_id, t.points, t.points, True) for t in spec.tests]
    tests[0] = TestResult("test_softmax", 0.0, 2.0, False,
                          "softmax([1000, 1000]) returned nan <img src=x onerror=\"document.title='pwned'\">",
                          "no_max_subtraction",
                          "Subtract the maximum score of each row before np.exp.")
    result = StudentResult("ada", "sha", "grader", tests=tests, flags=["tampering"])
    write_feedback(result, spec, tmp_path)
    page = tmp_path / "feedback" / "ada" / f"{spec.name}.html"
    browser.get(page.as_uri())
    body = browser.find_element(By.TAG_NAME, "body").text
    _shot(browser, "feedback")
    assert f"Score: 18 / {spec.max_score:g}" in body
    assert "Hint: Subtract the maximum score of each row before np.exp." in body
    assert "A graded test cell was changed" in body
    # Student-controlled text is shown as text, never run as HTML.
    assert "<img src=x" in body and browser.title != "pwned"
    failed = browser.find_elements(By.CSS_SELECTOR, ".fail")
    assert len(failed) == 1 and failed[0].value_of_css_property("color") == "rgba(180, 35, 24, 1)"
    assert "HIDDEN" not in browser.page_source and "check(" not in browser.page_source

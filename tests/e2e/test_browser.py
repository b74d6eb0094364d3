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
import urllib.parse
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


class Lab:
    """`jupyter lab` on 127.0.0.1 (a free port, a random token), served from `root`."""

    def __init__(self, root, *, config_dir=None):
        self.root, self.port, self.token = Path(root), _free_port(), os.urandom(12).hex()
        self.base = f"http://127.0.0.1:{self.port}"
        runtime = self.root.parent / f".runtime-{self.port}"
        env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(runtime),
                   PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
        if config_dir:
            env["JUPYTER_CONFIG_DIR"] = str(config_dir)
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = "1"
        self.log_path = self.root.parent / f"lab-{self.port}.log"
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
             "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
             "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
             f"--ServerApp.root_dir={self.root}"],
            cwd=self.root, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{self.base}/api/status?token={self.token}", timeout=2)
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    pytest.fail("JupyterLab did not start: " + self.log_path.read_text()[-2000:])
                time.sleep(0.5)

    def login(self, driver, path):
        """Log in with the token as a person pastes it, landing on `path`."""
        driver.get(f"{self.base}/login?next={urllib.parse.quote(path)}")
        box = WebDriverWait(driver, 30).until(
            EC.element_to_be_clickable((By.CSS_SELECTOR, "input[type=password]")))
        box.send_keys(self.token, Keys.ENTER)

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab as a student runs it: the student release's zip (`make student-release`),
    unzipped into a folder of their own and served from there, as `make student-lab` does."""
    import zipfile

    from autograder.release import student as student_release
    home = tmp_path_factory.mktemp("student") / "home"
    handout = student_release.write(home.parent / "handout", assignment=ASSIGNMENT)
    with zipfile.ZipFile(handout.parent / f"{handout.name}.zip") as z:
        z.extractall(home)
    # A copy: JupyterLab writes its workspace files into the config folder.
    config = shutil.copytree(REPO / "student-config", home.parent / "student-config")
    server = Lab(home / "softmax", config_dir=config)
    yield {"base": server.base, "token": server.token, "home": home}
    server.close()


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
    # Validate reads the file on disk: wait until the tab is no longer dirty.
    WebDriverWait(driver, 60).until(EC.invisibility_of_element_located(
        (By.CSS_SELECTOR, ".lm-TabBar-tab.jp-mod-current.jp-mod-dirty")))
    _shot(driver, "typed")
    button = wait.until(EC.element_to_be_clickable(
        (By.XPATH, "//*[contains(@class, 'jp-Toolbar')]//*[normalize-space(text())='Validate']")))
    button.click()
    def verdict(d):
        """The dialog once it holds a verdict (it may first show nothing yet)."""
        for dialog in d.find_elements(By.CSS_SELECTOR, ".jp-Dialog-content"):
            text = dialog.text
            if dialog.is_displayed() and any(w in text for w in ("The following cell",
                                                                 "Success", "rror")):
                return dialog, text
        return False

    dialog, text = WebDriverWait(driver, 240).until(verdict)
    _shot(driver, "validate")
    dialog.find_element(By.CSS_SELECTOR, ".jp-Dialog-footer button").click()
    wait.until(EC.invisibility_of_element_located((By.CSS_SELECTOR, ".jp-Dialog-content")))
    return text


def test_validate_in_jupyterlab_reports_the_exercise_verdict(browser, lab):
    wait = WebDriverWait(browser, 90)
    browser.get(f"{lab['base']}/lab/tree/softmax.ipynb?token={lab['token']}")
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
    assert "The following cell failed:" in verdict, verdict[:3000]
    first_failure = verdict.split("The following cell failed:", 2)[1]
    assert "softmax_backward(np.array([1.0, 0.0]), y)" in first_failure
    assert "NotImplementedError" in first_failure
    saved = (lab["home"] / "softmax" / "softmax.ipynb").read_text()
    assert "np.max(x, axis=-1, keepdims=True)" in saved


def test_feedback_page_as_the_student_sees_it(browser, tmp_path):
    from autograder.assignment import load_spec
    from autograder.report import write_feedback
    from autograder.model import StudentResult, TestResult

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


def test_formgrader_shows_a_graded_submission(browser, tmp_path):
    """The instructor's view: formgrader lists the class and opens a submission."""
    from autograder.assignments.softmax.samples import build, mistake_overrides, write

    from .conftest import run_grader

    subs, out = tmp_path / "subs", tmp_path / "out"
    write(subs, "perfect", build())
    write(subs, "no-max", build(mistake_overrides("softmax_no_max")))
    r = run_grader("grade", subs, "--out", out, "--no-progress")
    assert r.returncode == 0, r.stderr[-3000:]
    # Formgrader must show the grader's own scores, whatever the hidden tests charge.
    import csv
    with open(out / "grades.csv", newline="") as f:
        no_max = {row["student_id"]: row["score"] for row in csv.DictReader(f)}["no-max"]
    assert 0 < float(no_max) < 20
    server = Lab(out)            # in OUT, as the README says: OUT/nbgrader_config.py
    try:
        wait = WebDriverWait(browser, 60)
        # The assignment page counts the graded class: "# Submissions" is 2.
        server.login(browser, "/formgrader")
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "td.num-submissions a"))
        counts = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "td.num-submissions")]
        _shot(browser, "formgrader-assignments")
        assert counts == ["2"], counts
        browser.get(f"{server.base}/formgrader/gradebook/softmax/softmax")
        wait.until(EC.presence_of_element_located((By.XPATH, "//td[contains(., 'Submission #')]")))
        table = browser.find_element(By.TAG_NAME, "table").text
        _shot(browser, "formgrader-list")
        assert "20 / 20" in table and f"{float(no_max):g} / 20" in table
        assert "Loading, please wait" not in table
        browser.find_element(By.XPATH, "//button[normalize-space()='Show All Names']").click()
        wait.until(EC.presence_of_element_located((By.XPATH, "//td[contains(., 'no-max')]")))
        row = browser.find_element(By.XPATH, "//tr[td[contains(., 'no-max')]]")
        link = row.find_element(By.XPATH, ".//a[contains(., 'Submission #')]")
        browser.get(link.get_attribute("href"))
        wait.until(EC.presence_of_element_located((By.XPATH,
                   "//*[contains(text(), 'autograder: test_softmax: 0 / 2 failed')]")))
        page = browser.find_element(By.TAG_NAME, "body").text
        assert "test_softmax_backward: 2 / 2 passed" in page
        # Our hints are the automatic comments: formgrader shows them in the comment
        # box of the solution cell until the grader writes their own.
        boxes = browser.find_elements(By.CSS_SELECTOR, "textarea")
        comments = [b.get_attribute("placeholder") or "" for b in boxes]
        assert any("test_softmax: 0 / 2 failed" in c and "Hint:" in c for c in comments), comments
        box = next(b for b in boxes if "test_softmax: 0 / 2 failed" in (b.get_attribute("placeholder") or ""))
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", box)
        _shot(browser, "formgrader-submission")
    finally:
        server.close()

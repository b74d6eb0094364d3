"""`make student-release`: only what a student receives; `make student-lab` serves only that."""
import ast
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.release import student as student_release
from autograder.assignments.softmax import ASSIGNMENT, REPO

from autograder.release.notebooks import RULES

# The one grader module a student is given on purpose: the rule of what runs from a
# notebook (no check, no expected value), as RULES_COPY, so the check cells can say
# before submitting which names the grader will not have.
GRADER_FILES = {p.relative_to(REPO).as_posix(): p.read_bytes()
                for p in (REPO / "autograder").rglob("*.py")
                if p.stat().st_size > 200 and p != RULES}


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    out = tmp_path_factory.mktemp("handout")
    r = subprocess.run(["make", "-s", "student-release", f"STUDENT_DIR={out}"], cwd=REPO,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return out


def _files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in folder.rglob("*") if p.is_file()}


def test_the_release_holds_the_notebook_its_helpers_a_readme_and_pins(release):
    folder = release / "softmax"
    files = _files(folder)
    helpers = {p.name for p in ASSIGNMENT.release.parent.glob("*.py")}
    assert set(files) == {"softmax.ipynb", "README.md", "requirements.txt",
                          "nbgrader_config.py", *helpers}
    assert files["nbgrader_config.py"] == (REPO / "student-config/nbgrader_config.py").read_bytes()
    assert files["softmax.ipynb"] == ASSIGNMENT.release.read_bytes()
    for h in helpers:
        assert files[h] == (ASSIGNMENT.release.parent / h).read_bytes()
    # The zip holds the same bytes under softmax/.
    with zipfile.ZipFile(release / "softmax.zip") as z:
        zipped = {n.removeprefix("softmax/"): z.read(n) for n in z.namelist()}
    assert zipped == files
    # Readable by others: a handout is copied to students.
    assert all(p.stat().st_mode & 0o044 == 0o044 for p in folder.iterdir())


def _solution_lines():
    nb = nbformat.read(str(ASSIGNMENT.source), as_version=4)
    lines, inside = set(), False
    for cell in nb.cells:
        for line in cell.source.splitlines():
            s = line.strip()
            if s in ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS"):
                inside = True
            elif s in ("### END SOLUTION", "### END HIDDEN TESTS"):
                inside = False
            elif inside and len(s) > 12 and not s.startswith("#"):
                lines.add(s)
    return lines


def test_no_solution_no_hidden_test_no_grader_code(release):
    files = _files(release / "softmax")
    text = {k: v.decode("utf-8", "replace") for k, v in files.items()}
    lines = _solution_lines()
    assert len(lines) > 20        # the source notebook's solutions and hidden tests
    for name, body in text.items():
        for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "autograder", "check(\""):
            assert marker not in body, (name, marker)
        if name.endswith(".ipynb"):
            # Helper modules may share a generic line (`C = W.shape[0]`): they are the
            # instructor's handouts, byte for byte (checked above); the notebook has none.
            leaked = [l for l in lines if l in body]
            assert not leaked, (name, leaked[:3])
        # No file of the grader, whole or as a module a student could import.
        assert not any(body.encode() == g for g in GRADER_FILES.values()), name
    # The reference solutions: no function body of reference.py appears.
    ref = (REPO / "autograder/assignments/softmax/reference.py").read_text()
    bodies = [ast.get_source_segment(ref, f) for f in ast.parse(ref).body
              if isinstance(f, ast.FunctionDef)]
    for body in bodies:
        for line in body.splitlines()[1:]:
            s = line.strip()
            if len(s) > 25 and not s.startswith(("#", '"""')):
                assert not any(s in t for t in text.values()), s


def test_every_import_is_a_helper_the_standard_library_or_pinned(release):
    folder = release / "softmax"
    pinned = {l.split("==")[0] for l in (folder / "requirements.txt").read_text().split()}
    import_name = {"sklearn": "scikit-learn", "mpl_toolkits": "matplotlib"}
    local = {p.stem for p in folder.glob("*.py")}
    sources = [p.read_text() for p in folder.glob("*.py")]
    nb = nbformat.read(str(folder / "softmax.ipynb"), as_version=4)
    sources += ["\n".join(l for l in c.source.splitlines() if not l.lstrip().startswith(("%", "!")))
                for c in nb.cells if c.cell_type == "code"]
    for src in sources:
        for node in ast.walk(ast.parse(src)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level \
                else []
            for n in names:
                top = n.split(".")[0]
                assert (top in sys.stdlib_module_names or top in local
                        or import_name.get(top, top) in pinned), n


def test_a_students_changed_notebook_is_not_overwritten(tmp_path):
    student_release.write(tmp_path, assignment=ASSIGNMENT)
    nb = tmp_path / "softmax" / "softmax.ipynb"
    nb.write_text(nb.read_text().replace("raise NotImplementedError()", "return 42", 1))
    mine = nb.read_bytes()
    with pytest.raises(student_release.ReleaseError, match="--force"):
        student_release.write(tmp_path, assignment=ASSIGNMENT)
    assert nb.read_bytes() == mine
    student_release.write(tmp_path, assignment=ASSIGNMENT, force=True)
    assert nb.read_bytes() == ASSIGNMENT.release.read_bytes()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_student_lab_serves_only_the_release_with_lab_options(release, tmp_path):
    port, token = _free_port(), os.urandom(12).hex()
    args = (f"--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port={port} "
            f"--ServerApp.port_retries=0 --IdentityProvider.token={token}")
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTER_DATA_DIR=str(tmp_path / "data"), HOME=str(tmp_path))
    log = open(tmp_path / "lab.log", "w")
    # Run as this user, whoever that is (CI runs as root: --allow-root must come by itself).
    proc = subprocess.Popen(["make", "-s", "student-lab", f"STUDENT_DIR={release}",
                             f"LAB_ARGS={args}"], cwd=REPO, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, \
                    (tmp_path / "lab.log").read_text()[-3000:]
                time.sleep(0.5)
        with urllib.request.urlopen(f"{base}/api/contents?token={token}", timeout=30) as r:
            listing = json.load(io.TextIOWrapper(r, encoding="utf-8"))
        served = {c["name"] for c in listing["content"]}
        assert served == set(_files(release / "softmax")), served
        for outside in ("../softmax.zip", "solutions", "autograder", "../../solutions"):
            try:
                urllib.request.urlopen(f"{base}/api/contents/{outside}?token={token}", timeout=30)
                raise AssertionError(f"{outside} is served")
            except urllib.error.HTTPError as e:
                assert e.code in (403, 404), (outside, e.code)
        # The student's configuration (student-config/): no formgrader on this server.
        try:
            urllib.request.urlopen(f"{base}/formgrader/?token={token}", timeout=30)
            raise AssertionError("formgrader is served to the student")
        except urllib.error.HTTPError as e:
            assert e.code == 404
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@pytest.mark.slow
def test_validate_in_the_unzipped_release_shows_the_whole_advice(release, tmp_path):
    """A student unzips the release and runs Validate there: the check's advice is not cut."""
    from autograder.assignments.softmax.samples import build, mistake_overrides, write
    with zipfile.ZipFile(release / "softmax.zip") as z:
        z.extractall(tmp_path / "student")
    folder = tmp_path / "student" / "softmax"
    write(tmp_path / "w", "me", build(mistake_overrides("softmax_no_max")))
    (folder / "softmax.ipynb").write_bytes((tmp_path / "w" / "me" / "softmax.ipynb").read_bytes())
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_")}
    env.update(HOME=str(tmp_path), PATH=str(Path(sys.executable).parent) + os.pathsep
               + env.get("PATH", ""))
    r = subprocess.run([sys.executable, "-m", "nbgrader", "validate", "softmax.ipynb"],
                       cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    line = next(l for l in (r.stdout + r.stderr).splitlines()
                if "AssertionError: softmax([1000, 1000])" in l)
    assert line.rstrip().endswith("subtract the maximum score before np.exp."), line

"""`make prairielearn`'s grader image, built with podman and run as PrairieLearn's grader host runs it.

The image is built from grader-image/ on a Debian 12 base made from Debian's
archive (containers.py), installing offline from a wheelhouse. Each job is a
folder laid out as apps/grader-host/src/index.ts and lib/externalGraderCommon.ts
make it (student/, tests/ = the question's tests folder, data/data.json; no
results/), mounted at /grade, with the host's caps (no network, 2 GiB without
swap, 0.9 CPU, 1024 processes, private IPC) and Docker's default seccomp
profile. Six submissions: perfect, two mistaken, blank, malformed, hostile.
Each results.json must meet the contract (results.problems) and carry the
score `python -m autograder grade` gives the same notebook.
"""
import json
import shutil
import tempfile
from pathlib import Path

import pytest

from autograder.assignments.softmax.samples import build, write
from tests.e2e.adversarial.hostile import code_attack
from autograder.prairielearn import build as plbuild
from autograder.prairielearn.results import problems
from autograder.prairielearn.run import LIMITS

from . import containers

pytestmark = pytest.mark.slow

GRADE = "/grade"
# PrairieLearn kills the job at info.json's timeout. Measured here: see the printed timings.
PL_KILLS_AT_S = LIMITS.timeout_s


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    containers.require()
    work = tmp_path_factory.mktemp("pl-image")
    out = plbuild.build(work / "prairielearn", image="localhost/softmax-pl-grader")
    # The wheels join the build folder only in build_with_wheels: the key is the inputs'.
    key_before = containers.context_key(out / "grader-image")
    tag, took = containers.build_with_wheels(out / "grader-image",
                                             out / "grader-image" / "source",
                                             "localhost/softmax-pl-grader")
    print(f"\nbase image {took['base']:.0f} s, wheelhouse {took['wheels']:.0f} s, image build "
          f"{took['build']:.0f} s (0: cached; key {key_before[:8]})")
    return dict(tag=tag, out=out)


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pl-subs")
    # The hostile one reads where the question's tests/ (hidden tests, solutions) and data
    # are mounted.
    return folder, containers.sample_submissions(
        folder, hostile_reads=(f"{GRADE}/tests/grader", f"{GRADE}/data"))


@pytest.fixture(scope="module")
def cli_grades(notebooks, tmp_path_factory):
    return containers.cli_grades(notebooks[0], tmp_path_factory.mktemp("pl-cli-out"))


def job_folder(image, notebook):
    """A job folder as the grader host unpacks it (a fresh temp dir, no results/)."""
    root = Path(tempfile.mkdtemp(prefix="pl-job-"))
    shutil.copytree(image["out"] / "questions" / "softmax" / "tests", root / "tests")
    (root / "student").mkdir()
    if notebook is not None:
        shutil.copy(notebook, root / "student" / "softmax.ipynb")
    (root / "data").mkdir()
    (root / "data" / "data.json").write_text(json.dumps({
        "params": {}, "correct_answers": {}, "submitted_answers": {}, "format_errors": {},
        "partial_scores": {}, "score": 0, "feedback": {}, "variant_seed": 1, "options": {},
        "raw_submitted_answers": {}, "gradable": True}))
    return root


def grade_job(image, notebook, *extra):
    """One job in a fresh container; returns (results.json, seconds, container output)."""
    root = job_folder(image, notebook)
    try:
        info = json.loads((image["out"] / "questions" / "softmax" / "info.json").read_text())
        r, seconds = containers.run(
            "-t", *containers.PRAIRIELEARN_CAPS, *containers.DOCKER_SECCOMP,
            *containers.ISOLATED, "-v", f"{root}:{GRADE}:U", *extra, "--entrypoint", info["externalGradingOptions"]
            ["entrypoint"], image["tag"], timeout=PL_KILLS_AT_S * 4)
        # The grader host reads results.json only after exit status 0.
        assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
        raw = (root / "results" / "results.json").read_bytes()
        assert len(raw) <= 1024 * 1024
        return json.loads(raw), seconds, r.stdout
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def graded(image, notebooks):
    _, paths = notebooks
    runs = {name: grade_job(image, nb) for name, nb in paths.items()}
    print("\n" + "\n".join(f"container run {name}: {s:.1f} s, "
                           f"gradable {doc['gradable']}, score {doc.get('score')}"
                           for name, (doc, s, _) in runs.items()))
    return runs


@pytest.mark.parametrize("name", ["perfect", "mistaken-reg", "mistaken-sign", "blank",
                                  "hostile"])
def test_each_result_meets_the_contract_and_scores_as_the_cli(graded, cli_grades, name):
    doc, seconds, output = graded[name]
    assert problems(doc) == [], doc
    assert doc["gradable"] is True
    row = cli_grades[name]
    assert doc["score"] == pytest.approx(float(row["score"]) / float(row["max_score"])), \
        output[-2000:]
    assert sum(t["points"] for t in doc["tests"]) == pytest.approx(float(row["score"]))
    assert seconds < PL_KILLS_AT_S


def test_scores_differ_where_the_work_differs(graded):
    scores = {name: doc.get("score") for name, (doc, _, _) in graded.items()}
    assert scores["perfect"] == 1.0
    assert scores["blank"] == 0.0
    assert 0 < scores["mistaken-reg"] < 1 and 0 < scores["mistaken-sign"] < 1


def test_the_malformed_notebook_is_not_gradable_and_says_why(graded):
    doc, _, _ = graded["malformed"]
    assert problems(doc) == []
    assert doc["gradable"] is False and "score" not in doc
    assert doc["format_errors"][0].startswith("Not graded: the notebook could not be read")


def test_docker_seccomp_means_container_mode_and_the_start_up_line_says_so(graded):
    _, _, output = graded["perfect"]
    first = output.splitlines()[0]
    assert first.startswith("sandbox: container mode") and "seccomp" in first


def test_no_result_shows_a_solution_or_a_hidden_verdict(graded):
    import inspect

    from autograder.assignments.softmax import reference
    line = next(ln.split("#")[0].strip() for ln in
                inspect.getsource(reference.softmax_loss).splitlines() if "np.log(" in ln)
    for name, (doc, _, _) in graded.items():
        text = json.dumps(doc)
        assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text, name
        assert json.dumps(line)[1:-1] not in text, name
        assert "Hint:" not in text, name   # the default gradescope.toml shows hidden tests late


def test_a_missing_notebook_is_not_gradable(image):
    doc, _, _ = grade_job(image, None)
    assert problems(doc) == [] and doc["gradable"] is False
    assert "no softmax.ipynb" in doc["format_errors"][0]


def test_no_network_from_inside(image):
    probe = ("import os, socket\n"
             "print(sorted(os.listdir('/sys/class/net')))\n"
             "for host, port in (('10.0.2.2', 80), ('1.1.1.1', 53), ('deb.debian.org', 80)):\n"
             "    try:\n"
             "        socket.create_connection((host, port), timeout=3).close()\n"
             "        print('REACHED', host)\n"
             "    except OSError as e:\n"
             "        print('refused', host, type(e).__name__)\n")
    r, _ = containers.run(*containers.PRAIRIELEARN_CAPS, *containers.DOCKER_SECCOMP,
                          *containers.ISOLATED, "--entrypoint", "/grader/venv/bin/python", image["tag"], "-c", probe)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.splitlines()[0] == "['lo']"
    assert "REACHED" not in r.stdout and r.stdout.count("refused") == 3


def test_code_that_hangs_gets_a_result_before_prairielearn_kills_the_job(image, tmp_path):
    # A function that never returns: the grader's own budget must end it, and the
    # student gets a result with the timeout flag, not a job PrairieLearn killed.
    nb = write(tmp_path, "hang", build(code_attack("hang-in-function", "/nowhere", "/nowhere")))
    doc, seconds, output = grade_job(image, nb)
    print(f"\ncontainer run hang: {seconds:.1f} s, score {doc.get('score')}")
    assert problems(doc) == [] and doc["gradable"] is True
    assert 0 < doc["score"] < 1 and "time limit" in doc["message"], output[-2000:]
    assert seconds < LIMITS.timeout_s

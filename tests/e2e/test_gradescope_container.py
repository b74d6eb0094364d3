"""make gradescope's autograder.zip in a real container, as Gradescope runs it (the test of record).

Gradescope builds one image per autograder: the zip unpacked into
/autograder/source of its base image, setup.sh run once as root, then
run_autograder copied to /autograder. Here the same steps are a `podman build`
on the Debian 12 base of containers.py (Python 3.11.2; Gradescope's Ubuntu
22.04 gets Ubuntu's python3.11 from setup.sh), installing from a wheelhouse
(AUTOGRADER_WHEELS) because the build has no package index. Each submission
then runs in a fresh container: /autograder/submission, /autograder/results
and submission_metadata.json mounted, `bash /autograder/run_autograder`, with
the network on (Gradescope's containers have it), Docker's default seccomp
profile, and memory, CPU and process caps. A perfect, two mistaken, a blank,
a malformed and a hostile notebook: each results.json must be valid per
Gradescope's specification and carry the score `python -m autograder grade`
gives the same notebook.
"""
import inspect
import json
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from autograder.assignments.softmax.samples import build, write
from autograder.gradescope.build import build as build_zip
from autograder.gradescope.schema import problems

from . import containers

pytestmark = pytest.mark.slow

AG = "/autograder"
CAPS = [c for c in containers.PRAIRIELEARN_CAPS if c not in ("--network", "none")]
METADATA = {"id": 1, "created_at": "2026-11-23T09:00:00Z", "previous_submissions": [],
            "assignment": {"due_date": "2026-12-01T00:00:00Z"}}
CONTAINERFILE = f"""\
ARG BASE
FROM ${{BASE}}
COPY source {AG}/source
RUN --mount=type=bind,source=wheels,target=/wheels \\
    AUTOGRADER_WHEELS=/wheels bash {AG}/source/setup.sh \\
    && cp {AG}/source/run_autograder {AG}/run_autograder
"""


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    containers.require()
    work = tmp_path_factory.mktemp("gs-image")
    zpath = build_zip(work / "autograder.zip")
    ctx = work / "context"
    with zipfile.ZipFile(zpath) as z:
        names = z.namelist()
        z.extractall(ctx / "source")
    for script in ("setup.sh", "run_autograder"):
        (ctx / "source" / script).chmod(0o755)
    (ctx / "Containerfile").write_text(CONTAINERFILE)
    tag, took = containers.build_with_wheels(ctx, ctx / "source", "localhost/softmax-gradescope")
    print(f"\nzip {zpath.stat().st_size / 1e6:.2f} MB; image with setup.sh {took['build']:.0f} s "
          "(0: cached)")
    return dict(tag=tag, names=names, zip=zpath)


def run_autograder(image, notebook=None, metadata=METADATA, *extra):
    """One submission in a fresh container; returns (results.json, seconds, output)."""
    job = Path(tempfile.mkdtemp(prefix="gs-job-"))
    try:
        (job / "submission").mkdir()
        (job / "results").mkdir()
        if notebook is not None:
            shutil.copy(notebook, job / "submission" / "softmax.ipynb")
        (job / "submission_metadata.json").write_text(json.dumps(metadata))
        r, seconds = containers.run(
            *CAPS, *containers.DOCKER_SECCOMP, *containers.ISOLATED,
            "-v", f"{job / 'submission'}:{AG}/submission:U",
            "-v", f"{job / 'results'}:{AG}/results:U",
            "-v", f"{job / 'submission_metadata.json'}:{AG}/submission_metadata.json:U",
            *extra, "-w", AG, image["tag"], "bash", f"{AG}/run_autograder", timeout=600)
        assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
        doc = json.loads((job / "results" / "results.json").read_text())
        return doc, seconds, r.stdout
    finally:
        shutil.rmtree(job, ignore_errors=True)


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gs-subs")
    # The hostile one reads the grader's files and the metadata where Gradescope keeps them.
    return folder, containers.sample_submissions(folder,
                                                 hostile_reads=(f"{AG}/source", f"{AG}/results"))


@pytest.fixture(scope="module")
def cli_grades(notebooks, tmp_path_factory):
    return containers.cli_grades(notebooks[0], tmp_path_factory.mktemp("gs-cli-out"))


@pytest.fixture(scope="module")
def graded(image, notebooks):
    _, paths = notebooks
    t0 = time.monotonic()
    runs = {name: run_autograder(image, nb) for name, nb in paths.items()}
    print(f"\n{len(runs)} submissions in {time.monotonic() - t0:.0f} s\n" +
          "\n".join(f"run_autograder {name}: {s:.1f} s, score {doc['score']:g}"
                    for name, (doc, s, _) in runs.items()))
    return runs


def test_the_zip_has_the_scripts_at_its_root_and_the_pins(image):
    names = image["names"]
    for required in ("setup.sh", "run_autograder", "requirements.txt", "constraints.txt",
                     "gradescope.toml", "autograder/gradescope/run.py"):
        assert required in names
    with zipfile.ZipFile(image["zip"]) as z:
        for line in z.read("requirements.txt").decode().splitlines():
            assert [s.operator for s in Requirement(line).specifier] == ["=="], line
        assert z.getinfo("run_autograder").external_attr >> 16 & 0o111


def test_the_zip_is_reproducible(tmp_path):
    one, two = build_zip(tmp_path / "one.zip"), build_zip(tmp_path / "two.zip")
    assert one.read_bytes() == two.read_bytes()


def test_setup_leaves_the_grader_readable_by_root_only(image):
    r, _ = containers.run(*containers.ISOLATED, image["tag"], "stat", "-c", "%a %n",
                          f"{AG}/source", f"{AG}/venv")
    assert r.returncode == 0, r.stderr
    modes = dict(reversed(line.split()) for line in r.stdout.splitlines())
    assert int(modes[f"{AG}/source"], 8) & 0o077 == 0
    assert int(modes[f"{AG}/venv"], 8) & 0o005 == 0o005


@pytest.mark.parametrize("name", ["perfect", "mistaken-reg", "mistaken-sign", "blank",
                                  "malformed", "hostile"])
def test_results_are_valid_and_score_as_the_cli(graded, cli_grades, name):
    doc, _, stdout = graded[name]
    assert problems(doc) == [], doc
    assert doc["stdout_visibility"] == "hidden"
    assert isinstance(doc["execution_time"], int)
    assert doc["score"] == pytest.approx(float(cli_grades[name]["score"])), stdout[-2000:]


def test_docker_seccomp_means_container_mode(graded):
    _, _, stdout = graded["perfect"]
    assert "bubblewrap cannot run here" in stdout and "sandbox: container" in stdout


def test_scores_differ_where_the_work_differs(graded):
    score = {name: doc["score"] for name, (doc, _, _) in graded.items()}
    assert score["perfect"] == sum(t["max_score"] for t in graded["perfect"][0]["tests"]) > 0
    assert score["blank"] == 0 and score["malformed"] == 0
    assert 0 < score["mistaken-reg"] < score["perfect"]
    assert 0 < score["mistaken-sign"] < score["perfect"]


def test_two_entries_per_test_cell_with_the_hint(graded, cli_grades):
    doc, _, _ = graded["mistaken-reg"]
    columns = [c for c in cli_grades["mistaken-reg"] if c.startswith("test_")]
    # Two entries per test cell: the checks of the notebook, then the hidden tests.
    for part in ("notebook", "hidden"):
        assert [t["tags"][0] for t in doc["tests"] if t["tags"][1:] == [part]] == columns
    failed = [t for t in doc["tests"] if t["status"] == "failed" and t["tags"][1] == "hidden"]
    assert failed and all("Hint:" in t["output"] for t in failed)
    for t in doc["tests"]:
        assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(t)


def test_hidden_checks_are_shown_after_the_due_date(graded):
    doc, _, _ = graded["mistaken-reg"]
    # Every softmax test cell has hidden tests: by default nothing about them now;
    # the checks of the notebook are shown at once, with their messages.
    assert {t["visibility"] for t in doc["tests"] if t["tags"][1] == "hidden"} == \
        {"after_due_date"}
    notebook = [t for t in doc["tests"] if t["tags"][1] == "notebook"]
    assert {t["visibility"] for t in notebook} == {"visible"}
    assert {t["max_score"] for t in notebook} == {0.0}
    # naive_reg_2x: the notebook's own check of the regularized loss fails.
    assert any("0.5 * reg" in t["output"] for t in notebook if t["status"] == "failed")
    assert "use hidden inputs" in doc["output"] and "Checks in your notebook:" in doc["output"]
    assert "Hint" not in doc["output"] and "Score" not in doc["output"]


def test_hostile_code_earns_nothing_for_its_cell(graded):
    doc, _, _ = graded["hostile"]
    test = next(t for t in doc["tests"] if t.get("tags") == ["test_softmax_backward", "hidden"])
    assert test["score"] == 0


def test_malformed_and_missing_say_why_with_score_zero(graded, image):
    doc, _, _ = graded["malformed"]
    assert doc["output"].startswith("Not graded: the notebook could not be read")
    empty, _, _ = run_autograder(image, None)
    assert problems(empty) == [] and empty["score"] == 0
    assert empty["output"].startswith("Not graded: no softmax.ipynb")


def test_no_result_shows_a_solution_or_a_hidden_test(graded):
    from autograder.assignments.softmax import reference
    line = next(ln.split("#")[0].strip() for ln in
                inspect.getsource(reference.softmax_loss).splitlines() if "np.log(" in ln)
    for name, (doc, _, _) in graded.items():
        text = json.dumps(doc)
        assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text, name
        assert "autograder.hidden" not in text and json.dumps(line)[1:-1] not in text, name


def test_the_cap_keeps_the_last_graded_result(image, graded, tmp_path):
    perfect, _, _ = graded["perfect"]
    toml = tmp_path / "gradescope.toml"
    with zipfile.ZipFile(image["zip"]) as z:
        toml.write_text(z.read("gradescope.toml").decode().replace("max_graded = 0",
                                                                   "max_graded = 1"))
    toml.chmod(0o644)
    meta = dict(METADATA, previous_submissions=[
        {"submission_time": "2026-11-22T10:00:00Z", "score": perfect["score"],
         "results": perfect}])
    doc, _, _ = run_autograder(image, None, meta,
                               "-v", f"{toml}:{AG}/source/gradescope.toml:ro")
    assert problems(doc) == []
    assert doc["score"] == perfect["score"] and doc["extra_data"] == {"graded": False}
    assert doc["output"].startswith("Not graded: you have used the 1 graded submissions")


# Gradescope's containers have a network: the jail must keep student code off it. The
# container shares this host's network here, so a listener on the host's loopback hears
# whatever a wall attack (tests/e2e/adversarial/walls.py) gets out.
@pytest.fixture(scope="module")
def network_walls(image, tmp_path_factory):
    from .adversarial import walls
    from .adversarial.listener import Listener
    folder = tmp_path_factory.mktemp("gs-walls")
    listener = Listener()
    try:
        runs = {name: run_autograder(image, write(folder, name, build(walls.cells(
                    name, ports=listener.ports, root=AG))), METADATA, "--network", "host")
                for name in walls.NETWORK}
    finally:
        listener.close()
    return runs, listener


def test_a_network_attack_from_a_container_with_network_gets_nothing_out(network_walls):
    runs, listener = network_walls
    assert listener.ports and listener.got == [], listener.got[:3]
    for name, (doc, _, stdout) in runs.items():
        assert problems(doc) == [] and "sandbox: container" in stdout, name
        # test_cross_entropy_error earns its points only if the attack ran and sent nothing.
        held = next(t for t in doc["tests"]
                    if t.get("tags") == ["test_cross_entropy_error", "hidden"])
        assert held["score"] == held["max_score"], (name, held["output"][:300])

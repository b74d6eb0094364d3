"""Hostile submissions graded in one batch beside honest ones (issue 4)."""
import hashlib
import os
from pathlib import Path

import nbformat
import pytest

from autograder.assignment import load_spec
from autograder.assignments.softmax import ASSIGNMENT
from autograder.assignments.softmax.samples import build, mistake_overrides, write
from tests.e2e.adversarial.hostile import CODE_ATTACKS, NOTEBOOK_ATTACKS, code_attack
from autograder.assignments.softmax.samples.styles import STYLES

from .conftest import REPO, read_grades, run_grader

pytestmark = pytest.mark.slow

HONEST = {
    "honest-perfect": lambda: build(),
    "honest-style": lambda: build(STYLES["einsum_logsumexp"]),
    "honest-mistake": lambda: build(mistake_overrides("naive_reg_2x")),
    "honest-blank": lambda: build(perfect=False),
}


def tree_digest(root):
    h = hashlib.sha256()
    for p in sorted(Path(root).rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts:
            h.update(str(p).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def _cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _ppid(pid):
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def jail_processes():
    """Jail processes (bwrap or the worker) that no grader owns any more.

    Walking up from each, the first process outside the jail is the grader that
    started it while that grader lives; a jail left behind is re-parented to init
    (or a subreaper), which is no Python grader. Jails of graders running at the
    same time (other tests, in parallel) are therefore not counted.
    """
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit() and b"/grader/worker.py" in _cmdline(pid):
            top = int(pid)
            while b"/grader/worker.py" in _cmdline(_ppid(top)):
                top = _ppid(top)
            owner = _ppid(top)
            if owner <= 1 or b"python" not in _cmdline(owner):
                found.append(pid)
    return found


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    subs = tmp_path_factory.mktemp("hostile-subs")
    out = tmp_path_factory.mktemp("hostile-out")
    for sid, make in HONEST.items():
        write(subs, sid, make())
    for name in CODE_ATTACKS:
        write(subs, name, build(code_attack(name, REPO, out)))
    for name, (attack, _, _) in NOTEBOOK_ATTACKS.items():
        write(subs, name, attack(build()))
    (subs / "not-json").mkdir()
    (subs / "not-json" / "softmax.ipynb").write_text("{ this is not a notebook")
    (subs / "empty-folder").mkdir()
    huge = build()
    huge.cells[0].source += "\n" + "x" * 1000
    write(subs, "garbled-metadata", huge).write_text(
        (subs / "garbled-metadata" / "softmax.ipynb").read_text().replace('"nbformat": 4', '"nbformat": "four"'))

    watched = {d: tree_digest(REPO / d) for d in ("autograder", "solutions", "assignments")}
    before = set(jail_processes())
    r = run_grader("grade", subs, "--out", out, "--jobs", "2", "--timeout", "6", "--no-progress")
    assert r.returncode == 0, r.stderr[-3000:]
    after_digests = {d: tree_digest(REPO / d) for d in watched}

    alone = tmp_path_factory.mktemp("honest-alone")
    for sid, make in HONEST.items():
        write(alone, sid, make())
    alone_out = tmp_path_factory.mktemp("honest-alone-out")
    r2 = run_grader("grade", alone, "--out", alone_out, "--jobs", "1", "--no-progress")
    assert r2.returncode == 0, r2.stderr[-3000:]
    return dict(grades=read_grades(out), alone=read_grades(alone_out), out=out,
                watched=watched, after=after_digests, before_procs=before)


def test_honest_students_get_what_they_get_alone(batch):
    for sid in HONEST:
        assert batch["grades"][sid] == batch["alone"][sid], sid


@pytest.mark.parametrize("name", sorted(CODE_ATTACKS))
def test_code_attacks_earn_nothing_and_are_flagged(batch, name):
    _, flags, zeroed = CODE_ATTACKS[name]
    row = batch["grades"][name]
    assert flags <= set(row["flags"].split(";")) - {""}, row["flags"]
    for test in zeroed:
        assert float(row[test]) == 0, test
    # Never more than the honest perfect score on the other tests.
    assert float(row["score"]) <= load_spec(ASSIGNMENT).max_score


def test_faults_keep_the_rest_of_the_notebook(batch):
    spec = load_spec(ASSIGNMENT)
    for name in ("infinite-loop", "hang-in-function", "hard-exit", "huge-output", "memory-hog"):
        _, _, zeroed = CODE_ATTACKS[name]
        row = batch["grades"][name]
        rest = [t.grade_id for t in spec.tests if t.grade_id not in zeroed]
        assert all(float(row[t]) > 0 for t in rest), (name, row)


@pytest.mark.parametrize("name", sorted(NOTEBOOK_ATTACKS))
def test_notebook_attacks(batch, name):
    _, flags, zeroed = NOTEBOOK_ATTACKS[name]
    row = batch["grades"][name]
    assert flags <= set(row["flags"].split(";")) - {""}
    for test in zeroed:
        assert float(row[test]) == 0


def test_broken_and_missing_notebooks_get_a_row(batch):
    g = batch["grades"]
    assert g["not-json"]["flags"] == "invalid_notebook" and float(g["not-json"]["score"]) == 0
    assert g["empty-folder"]["flags"] == "missing_notebook"
    assert "invalid_notebook" in g["garbled-metadata"]["flags"]


def test_nothing_outside_the_sandbox_changed(batch):
    assert batch["watched"] == batch["after"]
    assert not (REPO / "pwned").exists()
    assert not Path("/tmp/pwned").exists()


def test_no_process_left_behind(batch):
    assert set(jail_processes()) - batch["before_procs"] == set()

"""Hostile submission FILES and folder NAMES in one batch with honest students (issue 8,
classes 2, 3 and 7): every folder is a row, nothing aborts, stalls or bloats the batch,
and no byte of a link's target appears anywhere in OUT."""
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.assignments.softmax.samples import build, mistake_overrides, write
from autograder.untrusted import csv_cell as neutralise

from .conftest import REPO, read_grades, run_grader, run_grader_as_user, user_tmpdir

pytestmark = pytest.mark.slow

HONEST = {"honest-perfect": lambda: build(),
          "honest-mistake": lambda: build(mistake_overrides("naive_reg_2x"))}
ODD_GRADED = ["a,b", "José", "=cmd|' calc'!A0", "x<script>", "new\nline"]
ODD_EMPTY = ["bad name", ".hidden", "-x", "@SUM(1)", "n" * 200, "tab\there"]
LINKS = {"link-mem": "/proc/self/mem", "link-pagemap": "/proc/self/pagemap",
         "link-passwd": "/etc/passwd", "link-other": "../honest-perfect/softmax.ipynb"}
PASSWD_HEAD = Path("/etc/passwd").read_bytes()[:12]


def tiny_metadata_notebook(path, megabytes):
    """A notebook padded with tiny metadata dicts up to `megabytes` MB."""
    nb = json.loads(nbformat.writes(build()))
    nb["metadata"]["junk"] = [{"k": {}} for _ in range(megabytes * 1024 * 1024 // 11)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, separators=(",", ":")))


def bang_notebook(n):
    nb = build()
    for c in nb.cells:
        if c.metadata.get("nbgrader", {}).get("grade_id") == "softmax":
            c.source += "\n" + "".join(f"!echo {i}\n" for i in range(n))
    return nb


def helper_cell_notebook():
    nb = build({"softmax": "def softmax(x):\n    e = np.exp(x - np.max(x, axis=-1, keepdims=True))\n"
                           "    return _normalise(e)\n"})
    i = next(i for i, c in enumerate(nb.cells)
             if c.metadata.get("nbgrader", {}).get("grade_id") == "softmax")
    nb.cells.insert(i, nbformat.v4.new_code_cell(
        "def _normalise(e):\n    return e / np.sum(e, axis=-1, keepdims=True)\n"))
    return nb


def work_cell_notebook():
    nb = build({"softmax": "def softmax(x):\n    e = np.exp(x - np.max(x, axis=-1, keepdims=True))\n"
                           "    return e / np.sum(e, axis=-1, keepdims=True) * ONE\n"})
    nb.cells.insert(3, nbformat.v4.new_code_cell("def one():\n    return 1.0\n\nONE = one()\n"))
    return nb


def peak_rss_run(*args):
    """run the grader under a small parent that reports its descendants' peak RSS (KB)."""
    wrapper = ("import resource, subprocess, sys\n"
               "r = subprocess.run(sys.argv[1:])\n"
               "print('PEAK_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "
               "file=sys.stderr)\nsys.exit(r.returncode)\n")
    r = subprocess.run([sys.executable, "-c", wrapper, sys.executable, "-m", "autograder",
                        *map(str, args)], capture_output=True, text=True, timeout=900, cwd=REPO)
    peak = [int(line.split()[1]) for line in r.stderr.splitlines() if line.startswith("PEAK_KB")]
    return r, peak[0] if peak else None


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    subs = tmp_path_factory.mktemp("hostile-files")
    out = tmp_path_factory.mktemp("hostile-files-out")
    for sid, make in HONEST.items():
        write(subs, sid, make())
    for name in ODD_GRADED:
        write(subs, name, build())
    for name in ODD_EMPTY:
        (subs / name).mkdir()
    for sid, target in LINKS.items():
        (subs / sid).mkdir()
        (subs / sid / "softmax.ipynb").symlink_to(target)
    (subs / "link-folder").symlink_to(subs / "honest-perfect")
    (subs / "fifo").mkdir()
    os.mkfifo(subs / "fifo" / "softmax.ipynb")
    tiny_metadata_notebook(subs / "metadata-50mb" / "softmax.ipynb", 50)
    (subs / "deep-json").mkdir()
    (subs / "deep-json" / "softmax.ipynb").write_text('{"a":' * 100000 + "1" + "}" * 100000)
    write(subs, "bang-5000", bang_notebook(5000))
    write(subs, "helper-cell", helper_cell_notebook())
    write(subs, "work-cell", work_cell_notebook())

    r, peak_kb = peak_rss_run("grade", subs, "--out", out, "--jobs", "2", "--timeout", "6",
                              "--no-progress")
    assert r.returncode == 0, r.stderr[-3000:]
    alone = tmp_path_factory.mktemp("files-alone")
    for sid, make in HONEST.items():
        write(alone, sid, make())
    alone_out = tmp_path_factory.mktemp("files-alone-out")
    r2 = run_grader("grade", alone, "--out", alone_out, "--jobs", "1", "--no-progress")
    assert r2.returncode == 0, r2.stderr[-3000:]
    print(f"\nhostile-files batch: peak RSS of the grader and its children {peak_kb / 1024:.0f} MB")
    return dict(subs=subs, out=out, grades=read_grades(out), alone=read_grades(alone_out),
                peak_kb=peak_kb, stdout=r.stdout)


def test_every_folder_is_one_row(batch):
    folders = [p.name for p in batch["subs"].iterdir()]
    assert sorted(batch["grades"]) == sorted(neutralise(n) for n in folders)


def test_honest_students_get_what_they_get_alone(batch):
    for sid in HONEST:
        assert batch["grades"][sid] == batch["alone"][sid], sid


def test_odd_names_are_graded_and_written_safely(batch):
    g = batch["grades"]
    for name in ODD_GRADED:
        assert float(g[neutralise(name)]["score"]) == 20, name
    assert "'=cmd|' calc'!A0" in g and "'-x" in g and "'@SUM(1)" in g
    for name in ODD_EMPTY:
        assert g[neutralise(name)]["flags"] == "missing_notebook"
    for folder in ("results", "feedback"):
        for p in (batch["out"] / folder).iterdir():
            assert "\n" not in p.name and not p.name.startswith(("-", "."))
    results = [json.loads(p.read_text()) for p in (batch["out"] / "results").glob("*.json")]
    assert {r["student_id"] for r in results} >= set(ODD_GRADED) | set(ODD_EMPTY)


def test_links_earn_nothing_and_leak_nothing(batch):
    for sid in list(LINKS) + ["link-folder"]:
        row = batch["grades"][sid]
        assert row["flags"] == "symlink" and float(row["score"]) == 0, sid
    for p in batch["out"].rglob("*"):
        if p.is_file() and p.suffix in (".json", ".html", ".csv", ".txt"):
            assert PASSWD_HEAD not in p.read_bytes(), p


def test_special_files_and_huge_or_deep_notebooks_are_invalid(batch):
    g = batch["grades"]
    for sid in ("fifo", "metadata-50mb", "deep-json"):
        assert g[sid]["flags"] == "invalid_notebook" and float(g[sid]["score"]) == 0, sid
    problem = json.loads((batch["out"] / "results" / "metadata-50mb.json").read_text())["problem"]
    assert "20.0 MB" in problem


def test_thousands_of_shell_lines_are_an_invalid_notebook(batch):
    row = batch["grades"]["bang-5000"]
    assert row["flags"] == "invalid_notebook" and float(row["score"]) == 0


def test_definitions_from_other_cells_and_the_cause_when_missing(batch):
    assert float(batch["grades"]["helper-cell"]["score"]) == 20
    r = json.loads((batch["out"] / "results" / "work-cell.json").read_text())
    msg = next(t["message"] for t in r["tests"] if t["grade_id"] == "test_softmax")
    assert "NameError" in msg and "`ONE` is set in cell #4" in msg and "does not run" in msg


def test_peak_memory_stays_well_below_1_5_gb(batch):
    assert batch["peak_kb"] is not None and batch["peak_kb"] < 1024 * 1024, batch["peak_kb"]


def test_unreadable_files_and_folders_as_a_normal_user():
    uid = 65534
    subs, out = user_tmpdir(uid) / "subs", user_tmpdir(uid) / "out"
    write(subs, "honest", build())
    write(subs, "file-000", build())
    write(subs, "dir-000", build())
    for p in [subs, *subs.rglob("*")]:
        os.lchown(p, uid, uid)
    os.chmod(subs / "file-000" / "softmax.ipynb", 0)
    os.chmod(subs / "dir-000", 0)
    r = run_grader_as_user("grade", subs, "--out", out, "--no-progress", "--timeout", "8",
                           "--jobs", "1")
    assert r.returncode == 0, r.stderr[-3000:]
    g = read_grades(out)
    assert float(g["honest"]["score"]) == 20
    for sid in ("file-000", "dir-000"):
        assert g[sid]["flags"] == "invalid_notebook", g[sid]
        problem = json.loads((out / "results" / f"{sid}.json").read_text())["problem"]
        assert "permission denied" in problem


def test_an_nbgrader_course_root_grades_its_students(tmp_path):
    course = tmp_path / "course"
    (course / "source" / "softmax").mkdir(parents=True)
    write(course / "submitted" / "alice", "softmax", build())      # .../alice/softmax/softmax.ipynb
    (course / "submitted" / "bob" / "softmax").mkdir(parents=True)
    (course / "submitted" / "bob" / "softmax" / "softmax.ipynb").symlink_to("/etc/passwd")
    r = run_grader("grade", course, "--out", tmp_path / "out", "--no-progress", "--timeout", "8")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "reading nbgrader course root" in r.stderr
    g = read_grades(tmp_path / "out")
    assert set(g) == {"alice", "bob"}
    assert float(g["alice"]["score"]) == 20 and g["bob"]["flags"] == "symlink"

"""What run_autograder does for one submission, given the root (/autograder on Gradescope).

Reads ROOT/submission (the student's upload) and ROOT/submission_metadata.json,
grades with `pipeline.grade` on a one-student folder (so the scores are those
of `python -m autograder grade`), and writes ROOT/results/results.json.
Everything under ROOT is read before student code runs; in container mode it is
then closed to the student's uid (checked as that uid), but for the venv.

Guarantee: when `run` returns, results.json exists and is valid, whatever the
submission (missing, malformed, hostile) or the grader did; on a failure it
holds score 0 and one clear line for the student, and the details go to
stdout, which Gradescope shows to the course staff only.
"""
import argparse
import json
import os
import stat
import sys
import tempfile
import time
import traceback
from pathlib import Path

from autograder.model import SANDBOX_CHOICES, SandboxMode, Visibility
from autograder.record.store import atomic_write
from . import config as gsconfig
from . import schema

STUDENT = "student"
SOURCE = Path(__file__).resolve().parents[2]     # the repository, or ROOT/source
BUILD_INFO = "gradescope-build.json"             # written into the zip by the build
WRITABLE = "writable-folders.json"               # written by setup.sh (sandbox/sweep.py)


def _max_bytes():
    """The size above which the notebook reader refuses a file."""
    from autograder.submissions.reader import MAX_BYTES
    return MAX_BYTES


def _copy_regular(src, dest, limit):
    """Copy at most `limit` bytes of src if it is a regular file; never follows a link.

    A larger file is cut, so the reader still sees it as too large.
    """
    try:
        fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        dest.parent.mkdir(parents=True, exist_ok=True)
        with os.fdopen(fd, "rb", closefd=False) as f, open(dest, "wb") as out:
            remaining = limit
            while remaining > 0:
                chunk = f.read(min(1 << 20, remaining))
                if not chunk:
                    break
                out.write(chunk)
                remaining -= len(chunk)
        return True
    finally:
        os.close(fd)


def stage(submission, folder, name):
    """Copy the upload's notebooks to folder/<STUDENT>/ in a layout the CLI accepts.

    Only regular files: `NAME.ipynb` at the top or in `NAME/`, and any other
    top-level notebook (the CLI takes a single one under another name). Links,
    devices and folders named like notebooks are left behind.
    """
    dest = Path(folder) / STUDENT
    dest.mkdir(parents=True)
    submission = Path(submission)
    try:
        top = sorted(p for p in submission.iterdir() if p.name.endswith(".ipynb"))
    except OSError:
        top = []
    limit = _max_bytes() + 1
    for p in top[:20]:
        _copy_regular(p, dest / p.name, limit)
    _copy_regular(submission / name / f"{name}.ipynb", dest / name / f"{name}.ipynb", limit)
    return Path(folder)


def read_json(path):
    """The JSON object at path, or {} when it is missing or unreadable."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _was_graded(previous):
    results = previous.get("results")
    extra = results.get("extra_data") if isinstance(results, dict) else None
    return not (isinstance(extra, dict) and extra.get("graded") is False)


def over_cap(metadata, cap):
    """The results.json to keep when the student has used `cap` graded submissions, else None."""
    if not cap:
        return None
    previous = [p for p in metadata.get("previous_submissions") or [] if isinstance(p, dict)]
    graded = [p for p in previous if _was_graded(p)]
    if len(graded) < cap:
        return None
    last = max(graded, key=lambda p: str(p.get("submission_time", "")))
    kept = last.get("results")
    kept = kept if isinstance(kept, dict) else {}
    doc = {k: v for k, v in kept.items() if k in ("score", "tests", "output", "output_format")}
    doc.setdefault("score", last.get("score", 0) if isinstance(last.get("score"), (int, float))
                   else 0)
    doc.setdefault("tests", [])
    when = last.get("submission_time", "your last graded submission")
    doc["output"] = (f"Not graded: you have used the {cap} graded submissions this assignment "
                     f"allows. This submission keeps the result of the one of {when}.\n\n"
                     + str(doc.get("output", "")))
    doc["extra_data"] = {"graded": False}
    return doc


def failure(message):
    """results.json for a submission the grader could not grade: score 0, one line."""
    return {"score": 0.0, "output": f"Not graded: {message}", "output_format": "text",
            "stdout_visibility": Visibility.HIDDEN, "tests": [], "extra_data": {"graded": False}}


def sandbox_mode(requested=SandboxMode.AUTO):
    """bubblewrap when a jailed worker works here, else the container mode
    (Gradescope's Docker refuses the namespaces bubblewrap needs): see sandbox/hosted.py."""
    from ..sandbox import hosted
    chosen = hosted.choose(requested)
    if chosen.refused is not None:
        print(f"bubblewrap cannot run here ({chosen.refused}): container mode", flush=True)
    return chosen.mode


def _options(mode, root):
    from ..pipeline import Options
    # One student: no parallel pool, no progress bar, no nbgrader gradebook; the
    # notebook's own checks too, shown at once (see reports/visibility.py). ROOT is
    # closed to student code once read (metadata, submission, source, results: all but
    # the venv the worker's Python runs from); container mode checks it as the student.
    # The image's writable folders were listed once when it was built: no walk per run.
    from ..sandbox.sweep import load
    writable = load(SOURCE / WRITABLE)
    return Options(jobs=1, progress=False, gradebook="no", sandbox=mode, notebook_checks=True,
                   closed=(str(Path(root).resolve()),),
                   writable=tuple(writable) if writable is not None else None)


def grade(root, *, mode, assignment=None, source=SOURCE):
    """The results.json document for ROOT/submission (may raise on a grader failure)."""
    from ..pipeline import grade as grade_folder
    from ..pipeline import load_assignment
    from autograder.report.gradescope import results_json

    a, spec = load_assignment(assignment)
    cfg = gsconfig.load(source / gsconfig.FILENAME, [t.grade_id for t in spec.tests])
    metadata = read_json(Path(root) / "submission_metadata.json")
    kept = over_cap(metadata, cfg.max_graded)
    if kept is not None:
        return kept
    with tempfile.TemporaryDirectory(prefix="gradescope-") as tmp:
        subs = stage(Path(root) / "submission", Path(tmp) / "submissions", spec.name)
        _, results = grade_folder(subs, Path(tmp) / "out", _options(mode, root))
    doc = results_json(results[0], spec, policy=cfg.policy(),
                       hidden_cells=gsconfig.hidden_test_cells(a.source))
    doc["extra_data"] = {"graded": True}
    if cfg.max_graded:
        used = 1 + sum(_was_graded(p) for p in metadata.get("previous_submissions") or []
                       if isinstance(p, dict))
        doc["output"] = (f"Graded submission {used} of {cfg.max_graded}.\n"
                         + doc.get("output", ""))
    return doc


def _checked(doc):
    """`doc` if it is a valid results.json, else a failure document (details to stdout)."""
    wrong = schema.problems(doc)
    if wrong:
        print("invalid results.json from the grader:", *wrong, sep="\n  ", flush=True)
        return failure("the autograder produced an invalid result; please tell the course staff.")
    return doc


def run(root="/autograder", *, sandbox=SandboxMode.AUTO):
    """Grade ROOT/submission into ROOT/results/results.json; never raises. Returns the doc."""
    start = time.monotonic()
    root = Path(root)
    doc = None
    try:
        mode = sandbox_mode(sandbox)
        print(f"sandbox: {mode}", flush=True)
        info = read_json(SOURCE / BUILD_INFO)
        doc = _checked(grade(root, mode=mode, assignment=info.get("assignment")))
    except BaseException as e:   # noqa: BLE001 - the student must get a result, whatever broke
        traceback.print_exc(file=sys.stdout)
        doc = failure("the autograder failed on this submission "
                      f"({type(e).__name__}); please tell the course staff.")
        if isinstance(e, KeyboardInterrupt):
            raise
    finally:
        if doc is not None:
            doc["execution_time"] = int(round(time.monotonic() - start))
            try:
                text = json.dumps(doc, indent=2, allow_nan=False)
            except (TypeError, ValueError) as e:
                print(f"results.json not serialisable: {e}", flush=True)
                doc = failure("the autograder produced an invalid result; please tell the "
                              "course staff.")
                text = json.dumps(doc, indent=2)
            atomic_write(root / "results" / "results.json", text)
    print(f"score {doc['score']:g}, {doc.get('execution_time', 0)} s", flush=True)
    return doc


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m autograder.gradescope.run",
                                description=__doc__.splitlines()[0])
    p.add_argument("--root", default="/autograder", help="the Gradescope root (default /autograder)")
    p.add_argument("--sandbox", default=SandboxMode.AUTO.value, choices=SANDBOX_CHOICES,
                   help="auto: bubblewrap when it works here, else container")
    args = p.parse_args(argv)
    run(args.root, sandbox=args.sandbox)
    return 0


if __name__ == "__main__":
    sys.exit(main())

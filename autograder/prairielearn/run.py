"""What the grader image's entrypoint does for one PrairieLearn grading job.

PrairieLearn's grader host (apps/grader-host/src/index.ts) mounts the job folder
at /grade: the student's files in /grade/student (here softmax.ipynb, from
pl-file-upload or the workspace's gradedFiles), the question's tests/ folder in
/grade/tests, its data in /grade/data/data.json. It reads
/grade/results/results.json only when the entrypoint exits 0, and refuses one
over 1 MiB.

Guarantee: when `run` returns, /grade/results/results.json exists and passes
`results.problems`, whatever the submission (missing, malformed, hostile) or
the grader did. A grader failure is `gradable: false` with a line that says so
(never the student's zero); the details go to stdout, which PrairieLearn shows
to the course staff in the job's log. Nothing under /grade is readable by
student code: the folder is closed to other users before any runs.
"""
import argparse
import json
import os
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from ..gradescope import config as gsconfig
from ..model import SANDBOX_CHOICES, SandboxMode
from ..gradescope.run import stage
from autograder.report.visibility import plan
from autograder.record.store import atomic_write
from . import results as plresults

QUESTION_FILE = "question.json"      # in the question's tests/ folder (build.py writes it)


@dataclass(frozen=True)
class JobLimits:
    """Time limits of one job; `timeout_s` goes into info.json as PrairieLearn's kill.

    The student's code runs in two jails one after the other (the notebook's own
    checks, then the hidden checks), each with `budget_s` of wall-clock time, a
    call cut at `call_timeout_s`. Code that hangs therefore costs at most
    `worst_case_s()`, which must end before PrairieLearn kills the container, so
    that it gets a result with the `timeout` flag rather than a killed job. An
    honest submission takes a few seconds (README: Grading on PrairieLearn).
    """
    timeout_s: int = 60          # externalGradingOptions.timeout (PrairieLearn: at most 600)
    budget_s: float = 16.0       # wall-clock seconds for the student's code, per jail
    call_timeout_s: float = 6.0  # per call into student code
    startup_s: float = 10.0      # container, Python, reading and jailing, on a busy host

    def worst_case_s(self):
        return 2 * (self.budget_s + self.call_timeout_s) + self.startup_s


LIMITS = JobLimits()


class QuestionError(Exception):
    """The question's tests/question.json is missing or wrong (the course's mistake)."""


def read_question(tests_dir):
    """{"assignment": name} from tests/question.json."""
    path = Path(tests_dir) / QUESTION_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise QuestionError(f"{path} cannot be read ({e}); copy the question folder that "
                            "`make prairielearn` wrote, tests/ included") from None
    if not isinstance(data, dict) or set(data) != {"assignment"} or \
            not isinstance(data["assignment"], str) or not data["assignment"]:
        raise QuestionError(f"{path}: expected exactly {{\"assignment\": NAME}}")
    return data


def lock(root):
    """Close /grade to every user but root before student code runs (container mode
    runs it as another uid; the job folder holds the question's tests and data)."""
    try:
        os.chmod(root, 0o700)
    except OSError as e:
        print(f"could not close {root} to other users: {e}", flush=True)


def sandbox_mode(requested=SandboxMode.AUTO):
    """(mode, start-up line): bubblewrap when a jailed worker starts, else container
    (see sandbox/hosted.py)."""
    from ..sandbox import hosted
    chosen = hosted.choose(requested)
    if requested != SandboxMode.AUTO:
        return chosen.mode, f"sandbox: {chosen.mode} (as asked)"
    if chosen.refused is None:
        return chosen.mode, "sandbox: bubblewrap"
    return chosen.mode, ("sandbox: container mode: bubblewrap cannot start here (Docker's "
                         "default seccomp profile, which PrairieLearn's grader hosts apply, "
                         f"refuses the namespaces it needs): {chosen.refused}")


def _options(mode):
    from ..pipeline import Options
    # One student: no pool, no progress bar, no nbgrader gradebook (it costs ~2 s).
    # The notebook's own checks too, shown at once (see reports/visibility.py).
    return Options(jobs=1, progress=False, gradebook="no", sandbox=mode,
                   timeout=LIMITS.call_timeout_s, budget=LIMITS.budget_s,
                   notebook_checks=True)


def use_question_files(tests_dir):
    """Make the assignment package of tests/grader/ findable; returns that folder.

    The image holds the grader core only; the question's tests/ folder (copied
    by PrairieLearn into /grade/tests for each job) holds the assignment
    package at grader/autograder/assignments/<name>/ and its notebooks at the
    repository paths the package expects. Its folder joins AUTOGRADER_ASSIGNMENTS
    for this job's process (autograder/assignment.py); an assignment installed
    with the grader (a checkout, the tests) is found first.
    """
    from ..assignment import ENV_PATH
    grader = Path(tests_dir) / "grader"
    folder = str(grader / "autograder" / "assignments")
    folders = [f for f in os.environ.get(ENV_PATH, "").split(os.pathsep) if f]
    if folder not in folders:
        os.environ[ENV_PATH] = os.pathsep.join([*folders, folder])
    return grader


def grade(root, *, mode):
    """The results.json document for the job in ROOT (may raise on a grader failure)."""
    from ..pipeline import grade as grade_folder
    from ..pipeline import load_assignment

    question = read_question(Path(root) / "tests")
    grader = use_question_files(Path(root) / "tests")
    a, spec = load_assignment(question["assignment"])
    cfg = gsconfig.load(grader / gsconfig.FILENAME, [t.grade_id for t in spec.tests])
    with tempfile.TemporaryDirectory(prefix="prairielearn-") as tmp:
        subs = stage(Path(root) / "student", Path(tmp) / "submissions", spec.name)
        _, graded = grade_folder(subs, Path(tmp) / "out", _options(mode))
    shown = plan(graded[0], cfg.policy(), hidden_cells=gsconfig.hidden_test_cells(a.source),
                 spec=spec)
    return plresults.results_json(graded[0], shown)


def _checked(doc):
    wrong = plresults.problems(doc)
    if wrong:
        print("invalid results.json from the grader:", *wrong, sep="\n  ", flush=True)
        return plresults.grader_failure("it produced an invalid result")
    return doc


def run(root="/grade", *, sandbox=SandboxMode.AUTO):
    """Grade the job in ROOT into ROOT/results/results.json; never raises. Returns the doc."""
    start = time.monotonic()
    root = Path(root)
    doc = None
    try:
        lock(root)
        mode, line = sandbox_mode(sandbox)
        print(line, flush=True)
        doc = _checked(grade(root, mode=mode))
    except BaseException as e:   # noqa: BLE001 - the student must get a result, whatever broke
        traceback.print_exc(file=sys.stdout)
        doc = plresults.grader_failure(type(e).__name__)
        if isinstance(e, KeyboardInterrupt):
            raise
    finally:
        if doc is not None:
            atomic_write(root / "results" / "results.json", json.dumps(doc, indent=1))
    print(f"gradable {doc['gradable']}, score {doc.get('score', '-')}, "
          f"{time.monotonic() - start:.1f} s", flush=True)
    return doc


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m autograder.prairielearn.run",
                                description=__doc__.splitlines()[0])
    p.add_argument("--root", default="/grade", help="the job folder (default /grade)")
    p.add_argument("--sandbox", default=SandboxMode.AUTO.value, choices=SANDBOX_CHOICES,
                   help="auto: bubblewrap when it works here, else container")
    args = p.parse_args(argv)
    run(args.root, sandbox=args.sandbox)
    return 0


if __name__ == "__main__":
    sys.exit(main())

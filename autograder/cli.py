"""python -m autograder {grade, demo, release, student-release, gradescope}."""
import argparse
import gc
import os
import subprocess
import sys
from pathlib import Path

from autograder.model import SANDBOX_CHOICES, SandboxMode
from autograder.submissions.discover import UsageError


LAYOUTS = """\
layouts read (NAME: the assignment's notebook name, NAME.ipynb):
  SUBMISSIONS/<student>/NAME.ipynb          what students upload
  SUBMISSIONS/<student>/NAME/NAME.ipynb     nbgrader's submitted/ layout
  SUBMISSIONS/<student>/<other>.ipynb       a single notebook under another name
  COURSE_ROOT/submitted/<student>/NAME/NAME.ipynb
                                            an nbgrader course root: a folder with an
                                            nbgrader_config.py (e.g. `grade .` in the
                                            course after `nbgrader collect NAME`)
Every folder is one row, whatever its name. Submissions are read as hostile
input: a symbolic link is not followed (0 points, flag `symlink`); a FIFO,
device, unreadable file or a notebook over 20 MB gets `invalid_notebook`."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # One line, then exit 2: the argparse usage block is noise here.
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


# Measured: with 100 MB no check can run (every call crashes), with 150 MB the speed
# check does not; 200 MB grades a correct notebook fully. A floor with some margin.
MIN_MEMORY_MB = 256


def _memory_mb(s):
    v = _positive_int(s)
    if v < MIN_MEMORY_MB:
        raise argparse.ArgumentTypeError(
            f"{v} MB is too little to run Python with NumPy; use at least {MIN_MEMORY_MB}")
    return v


def _prog():
    """How the user called us: `python -m autograder` or the console script's name."""
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return "python -m autograder" if name in ("", "__main__.py", "-c") else name


def _positive_int(s):
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {s!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {s}")
    return v


def _positive_float(s):
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {s!r}") from None
    if not v > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {s}")
    return v


def _add_grading_options(p):
    p.add_argument("--out", required=True, help="folder for grades.csv, feedback/, gradescope/")
    p.add_argument("--jobs", type=_positive_int, default=0,
                   help="parallel workers (default: number of cores)")
    p.add_argument("--timeout", type=_positive_float, default=30.0,
                   help="seconds allowed per cell and per call (default 30)")
    p.add_argument("--budget", type=_positive_float, default=None, metavar="SECONDS",
                   help="wall-clock seconds for all of one student's code; once spent, the "
                        "remaining tests fail with flag timeout (default: 8 x --timeout, at "
                        "least 120)")
    p.add_argument("--memory", type=_memory_mb, default=1024, metavar="MB",
                   help=f"memory limit per submission in MB (default 1024, at least "
                        f"{MIN_MEMORY_MB}: Python with NumPy needs that much to run the checks)")
    p.add_argument("--sandbox", choices=SANDBOX_CHOICES, default=SandboxMode.AUTO.value,
                   help="how student code is jailed: bubblewrap (auto: when it works here) or "
                        "container (as root where namespaces are refused: a separate uid per "
                        "worker; see the README's Security section)")
    p.add_argument("--unsafe-no-sandbox", action="store_true",
                   help="run student code without bubblewrap (only for code you trust)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--assignment", metavar="NAME",
                   help="which assignment package grades (default: the only one installed)")
    p.add_argument("--roster", metavar="ROSTER.csv",
                   help="CSV mapping folder names (column student_id) to LMS identities: "
                        "also writes canvas_grades.csv, moodle_grades.csv and "
                        "roster_check.csv (README: Grades for the LMS)")
    p.add_argument("--lms-column", metavar="TITLE",
                   help="title of the grade column in the LMS files (default: the assignment "
                        "name; Canvas: 'Name (12345)' updates assignment 12345)")
    p.add_argument("--gradebook", choices=("auto", "yes", "no"), default="auto",
                   help="write OUT/gradebook.db for nbgrader's tools (auto: when more than "
                        "one student is graded)")


def build_parser():
    parser = _Parser(prog=_prog(), description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    g = sub.add_parser("grade", help="grade a folder of submissions", epilog=LAYOUTS,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    g.add_argument("submissions", help="folder of student folders, or an nbgrader course "
                   "root (see the layouts below)")
    _add_grading_options(g)
    d = sub.add_parser("demo", help="grade the bundled sample submissions")
    _add_grading_options(d)
    sub.add_parser("release", help="regenerate assignments/ from solutions/ with nbgrader")
    sr = sub.add_parser("student-release", help="what a student is given: the release notebook, "
                        "its helpers, a README and the pins, as OUT/NAME/ and OUT/NAME.zip")
    sr.add_argument("--out", default="student-release", help="folder to write (default "
                    "student-release)")
    sr.add_argument("--assignment", metavar="NAME", help="which assignment (default: the only one)")
    sr.add_argument("--force", action="store_true",
                    help="overwrite a notebook in OUT/NAME/ that differs from the release")
    gs = sub.add_parser("gradescope", help="Gradescope autograder: build the zip, or run "
                        "it on one submission").add_subparsers(dest="gs_command", required=True,
                                                                metavar="{build,run}",
                                                                parser_class=_Parser)
    b = gs.add_parser("build", help="write autograder.zip (setup.sh, run_autograder, grader, pins)")
    b.add_argument("--out", default="autograder.zip", help="the zip to write (default autograder.zip)")
    b.add_argument("--assignment", metavar="NAME", help="which assignment (default: the only one)")
    r = gs.add_parser("run", help="what run_autograder does: grade ROOT/submission into "
                      "ROOT/results/results.json")
    r.add_argument("--root", default="/autograder", help="the Gradescope root (default /autograder)")
    r.add_argument("--sandbox", default=SandboxMode.AUTO.value, choices=SANDBOX_CHOICES)
    pl = sub.add_parser("prairielearn", help="PrairieLearn external grader: write the course "
                        "fragment and the grader image's build folder, or run one job"
                        ).add_subparsers(dest="pl_command", required=True,
                                         metavar="{build,run}", parser_class=_Parser)
    b = pl.add_parser("build", help="write questions/ and grader-image/ (README: Grading on "
                      "PrairieLearn)")
    b.add_argument("--out", default="prairielearn", help="folder to write (default prairielearn)")
    b.add_argument("--assignment", metavar="NAME", help="which assignment (default: the only one)")
    b.add_argument("--image", metavar="ACCOUNT/NAME", help="the grader image's Docker Hub name, "
                   "for info.json (default: a placeholder to replace)")
    b.add_argument("--wheels", action="store_true", help="also download every pinned wheel "
                   "into grader-image/wheels/, so the image builds with no package index")
    r = pl.add_parser("run", help="what the image's entrypoint does: grade ROOT/student into "
                      "ROOT/results/results.json")
    r.add_argument("--root", default="/grade", help="the job folder (default /grade)")
    r.add_argument("--sandbox", default=SandboxMode.AUTO.value, choices=SANDBOX_CHOICES)
    return parser


def _options(args):
    from .pipeline import Options
    return Options(jobs=args.jobs, timeout=args.timeout, memory_mb=args.memory,
                   unsafe=args.unsafe_no_sandbox, sandbox=args.sandbox,
                   progress=not args.no_progress,
                   assignment=args.assignment, gradebook=args.gradebook, budget=args.budget,
                   roster=args.roster, lms_column=args.lms_column)


def _ensure_path():
    bindir = str(Path(sys.executable).parent)
    os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def _one_blas_thread():
    """The grader's own BLAS runs one thread (pipeline.grade limits it so). Started so,
    before NumPy is imported, its import starts no others, which spin beside the booting
    jail (up to 40 ms of a one-student run on 2 cores). Workers set their own environment
    (jail.worker_env); a thread count the user chose stands."""
    for blas in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(blas, "1")


def imports_done():
    """`python -m autograder` pauses garbage collection while the grader imports
    (__main__.py): once they are done, what they made is frozen (gc.freeze: never walked
    again) and collection resumes. Nothing where it was not paused."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def cmd_grade(args):
    # The first jail and reader child start before the imports below (headstart.py).
    from .headstart import Asked, start
    headstart = start(Asked(sandbox=args.sandbox, unsafe=args.unsafe_no_sandbox,
                            memory_mb=args.memory))
    try:
        from .pipeline import grade
        imports_done()
        spec, results = grade(args.submissions, args.out, _options(args), headstart=headstart)
    finally:
        if headstart is not None:
            headstart.close()
    from autograder.report import summary_table    # imported while grading (pipeline.py)
    print(summary_table(results, spec))
    out = Path(args.out)
    extra = [n for n in ("class_report.html", "mistakes.csv", "score_histogram.png", "gradebook.db",
                         "canvas_grades.csv", "moodle_grades.csv", "roster_check.csv")
             if (out / n).exists()]
    print(f"\nwrote {out / 'grades.csv'}, feedback/, gradescope/"
          + "".join(f", {n}" for n in extra))
    return 0


def cmd_demo(args):
    from .pipeline import load_assignment
    assignment, _ = load_assignment(args.assignment)
    if assignment.samples is None:
        raise UsageError(f"assignment {assignment.name} has no sample submissions")
    folder = Path(args.out) / "submissions"
    assignment.samples(folder)
    args.submissions = str(folder)
    args.out = str(Path(args.out) / "graded")
    return cmd_grade(args)


def cmd_release(args):
    from autograder.release.notebooks import regenerate
    regenerate()
    return 0


def cmd_student_release(args):
    from .pipeline import load_assignment
    from autograder.release.student import ReleaseError, write
    assignment, _ = load_assignment(args.assignment)
    try:
        folder = write(args.out, assignment=assignment, force=args.force)
    except ReleaseError as e:
        raise UsageError(str(e)) from None
    names = sorted(p.name for p in folder.iterdir())
    print(f"wrote {folder}/ ({', '.join(names)}) and {folder.parent / (folder.name + '.zip')}: "
          "hand these to students")
    return 0


def cmd_gradescope(args):
    if args.gs_command == "run":
        from .gradescope.run import run
        run(args.root, sandbox=args.sandbox)
        return 0
    from .gradescope.build import BuildError, build
    try:
        out = build(args.out, assignment=args.assignment)
    except BuildError as e:
        raise UsageError(str(e)) from None
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB): upload it as the autograder "
          "of a Gradescope programming assignment (README: Grading on Gradescope)")
    return 0


def cmd_prairielearn(args):
    if args.pl_command == "run":
        from .prairielearn.run import run
        run(args.root, sandbox=args.sandbox)
        return 0
    from .prairielearn.build import DEFAULT_IMAGE, BuildError, build
    try:
        out = build(args.out, assignment=args.assignment, image=args.image or DEFAULT_IMAGE,
                    wheels=args.wheels)
    except BuildError as e:
        raise UsageError(str(e)) from None
    print(f"wrote {out}/questions/ (copy into your course repository) and "
          f"{out}/grader-image/ (build and push the image: README, Grading on PrairieLearn)")
    if not args.image:
        print(f"note: info.json names the image {DEFAULT_IMAGE}; pass --image ACCOUNT/NAME")
    return 0


def main(argv=None):
    args = build_parser().parse_args(argv)
    _ensure_path()
    _one_blas_thread()
    if args.command not in ("grade", "demo"):
        imports_done()      # grading resumes it once it has imported (cmd_grade)
    try:
        return {"grade": cmd_grade, "demo": cmd_demo, "release": cmd_release,
                "student-release": cmd_student_release,
                "gradescope": cmd_gradescope,
                "prairielearn": cmd_prairielearn}[args.command](args)
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished students are saved; run the same command again "
              "to grade the rest", file=sys.stderr)
        return 130
    except subprocess.CalledProcessError as e:
        print(f"error: {' '.join(map(str, e.cmd))} failed with status {e.returncode}",
              file=sys.stderr)
        return 1

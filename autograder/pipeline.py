"""The grading pipeline: find -> sandboxed run + checks -> gradebook -> reports.

Each stage hands plain data to the next. Results are saved one student at a
time as they finish, so an interrupted batch resumes where it stopped and a
student's result never depends on another's. Each student's files are
written on their own: a failure writing one student's files costs only those
files, says so in one line on stderr, and the next run writes them again
(results are cached, reports are always rewritten).
"""
from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from threadpoolctl import threadpool_limits

from autograder.check import notebook_checks
from .assignment import Assignment, AssignmentError, Spec, get, load_spec
from .headstart import Asked, Headstart
from .perthread import PerThread
from autograder.submissions.discover import Submission, UsageError, enclosing_course, find
from autograder.submissions.notebook import (Shown, StudentCode, adopt_reader,
                                             read_submission, readers)
from autograder.model import Flag, SandboxMode, StudentResult
from autograder.record.store import ResultStore, grader_fingerprint
from autograder.check.runner import ProcessTimer, grade_code
from .sandbox import JailSettings, Limits, WorkerProcess, modes
from .sandbox.modes import Mode
from .sandbox.bwrap import SandboxUnavailable
from .sandbox.jail import JailCgroups
from .untrusted import terminal, valid

if TYPE_CHECKING:     # imported when a course is written: it brings nbgrader's machinery
    from autograder.record.nbgrader.course import CourseWriter
    # Imported once grading has started (_import_ahead): nothing before needs them.
    from autograder.report.lms import Matched, RosterEntry


@dataclass(frozen=True)
class Options:
    """Every setting of one grading run, built once (cli.py, from argv; the Gradescope
    and PrairieLearn runs) and read by the stages, never changed."""
    jobs: int = 0             # 0: one per core
    timeout: float = 30.0     # seconds per cell / per call
    memory_mb: int = 1024
    unsafe: bool = False      # run without bubblewrap
    sandbox: str = SandboxMode.AUTO   # model.SANDBOX_CHOICES (sandbox/modes.py)
    progress: bool = True
    assignment: str | None = None    # name of the assignment package; None: the only one
    gradebook: str = "auto"   # "auto": for batches (more than one student), "yes", "no"
    budget: float | None = None      # wall-clock seconds per student; None: default_budget(timeout)
    notebook_checks: bool = False  # also run each test cell as released (notebook_checks.py)
    roster: str | None = None        # ROSTER.csv: folder names -> LMS identities (reports/lms.py)
    lms_column: str | None = None    # the grade column's title in the LMS files; None: the assignment
    closed: tuple = ()        # more paths student code must not read (Gradescope's root)
    writable: tuple | None = None    # container mode: folders students could write to, if known


def default_budget(timeout: float) -> float:
    """The per-student wall-clock budget when --budget is not given: 8 x --timeout, at least 120 s.

    An honest submission needs ~1-2 s in all. Code that hangs costs one
    --timeout per request that reaches it: a loss function that never returns
    costs its tests' calls and the restarts after them, about 6 timeouts, so 8
    leave room. Code that sleeps just under --timeout at every request held
    its row for ~35 x --timeout before; now it ends within 8 x.
    """
    return max(120.0, 8 * timeout)


class _Timers(PerThread):
    """One clean reference-timer process per grading thread, made on first use."""

    def __init__(self, reference: Callable | None, *, needed: bool = True) -> None:
        """`needed`: whether any check is timed (else `prestart` starts nothing)."""
        def make() -> ProcessTimer:
            if reference is None:
                raise AssignmentError("a timed check needs the assignment's timer_reference")
            return ProcessTimer(reference)
        super().__init__(make)
        self.needed = needed

    def prestart(self) -> None:
        """Start this thread's timer process, if a check will need it, without waiting:
        grade_code calls it once the student's jail has started, so that it starts while
        the first checks run (one core is then mostly idle: the grader and the jail take
        turns), not beside the jail and the reader child, which it would slow."""
        if self.needed:
            self.get().start()


def _out_folder(out: str | Path) -> Path:
    """OUT, created if missing; a file or an uncreatable folder is a usage error."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; pass a folder (it is created if missing)")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"cannot create --out {out}: {e.strerror}") from None
    return out


def _check_paths(submissions: str | Path, out: str | Path, *,
                 given: str | Path | None = None) -> None:
    """Refuse an OUT inside the submissions, or equal to the folder given (a course root)."""
    sub, out = Path(submissions).resolve(), Path(out).resolve()
    if given is not None and Path(given).resolve() == out:
        raise UsageError(f"--out {out} is the folder being graded; choose a folder of its own")
    if out == sub or sub in out.parents:
        raise UsageError(f"--out {out} is inside the submissions folder; choose a folder outside it")


@dataclass(frozen=True)
class Graded:
    """One student's row as the pool hands it back: `result`; `shown`, the notebook as
    read for this very result (for the course output; its outline is None when not
    asked for or unreadable); `fresh`: graded now and to be stored (not reused from the
    store, nor a row of the grader's own failure)."""
    result: StudentResult
    shown: Shown
    fresh: bool


def read_and_grade(sub: Submission, *, store: ResultStore, outline: bool,
                   assignment: Assignment, spec: Spec, grader: str, opts: Options,
                   timers: _Timers, jail: JailSettings,
                   readers: PerThread | None = None,
                   headstart: Headstart | None = None) -> Graded:
    """The Graded row of one Submission, from one read of its notebook: the hash of the
    bytes read asks the store for a result to reuse, else the code read with it is
    graded (grade_one). A grader failure twice over is the row "internal grader
    error", never stored. `outline`: also keep the outline of the bytes read, for
    formgrader's copy. `readers`: the run's reader children (one per thread; None: one
    for this read alone).
    `headstart`: the run's Headstart (its jail and reader child go to the first student
    that needs them), or None."""
    # A student with no stored result will be graded: the first jail boots while the
    # notebook is read (a stored one is reused when the hash matches: no jail then).
    started = None if store.path(sub.student_id).exists() else _prelaunch(jail, headstart)
    if headstart is not None and readers is not None:
        adopt_reader(readers, headstart.take_reader())
    try:
        code = read_submission(sub, spec, outline=outline, pool=readers)
        shown = Shown.of(sub, code)
        cached = store.load(sub.student_id, code.sha256, grader)
        if cached is not None and opts.notebook_checks \
                and not cached.notebook_checks and not cached.problem:
            cached = None       # stored by a run that did not run them
        if cached is not None:
            return Graded(cached, shown, fresh=False)
        try:
            return Graded(grade_one(sub.student_id, code, assignment=assignment, spec=spec,
                                    grader=grader, opts=opts, timers=timers, jail=jail,
                                    started=started), shown, fresh=True)
        except Exception as e:  # noqa: BLE001 - a grader bug must not stop the batch
            return Graded(crashed(sub.student_id, grader, e), shown, fresh=False)
    finally:
        if started is not None:
            started.close()     # grade_one closed it already, if it ran (again: nothing)


def crashed(student_id: str, grader: str, error: BaseException) -> StudentResult:
    """The row of a student whose grading failed inside the grader (never stored)."""
    return StudentResult(student_id, "", grader, flags=[Flag.CRASH],
                         problem=f"internal grader error: {type(error).__name__}: "
                                 f"{valid(str(error))}", internal=True)


def grade_one(student_id: str, code: StudentCode, *, assignment: Assignment, spec: Spec,
              grader: str, opts: Options, timers: _Timers, jail: JailSettings,
              started: WorkerProcess | None = None) -> StudentResult:
    """One student's result for StudentCode `code`. A failure of the grader's own
    machinery (a test failed as an internal error, or an exception out of grade_code: a
    reference timer that failed twice, a bug) is retried once from scratch; if it fails
    again, the result says so (test by test), or the exception propagates (the row
    "internal grader error"), and the store never reuses it. `jail`: the run's
    JailSettings; `started`: a jail started for this student beforehand (or None),
    closed before this returns."""
    release = getattr(assignment, "release", None)      # None: a test's stand-in assignment
    # The suite's test cells only when they run; the hidden checks' jail needs the helpers.
    suite = notebook_checks.suite(release) if opts.notebook_checks and release else None
    helpers = notebook_checks.helpers(release) if release is not None else None
    for attempt in (1, 2):
        try:
            result = grade_code(student_id=student_id, code=code, assignment=assignment,
                                spec=spec, grader=grader, timer_factory=timers.get, jail=jail,
                                started=started, notebook_suite=suite, helpers=helpers,
                                when_started=timers.prestart)
        except Exception:  # noqa: BLE001 - see the docstring
            if attempt == 2:
                raise
            continue
        finally:
            # Closed by grade_code (closing again does nothing): a second attempt, like
            # an exception, leaves no jail behind; it starts one afresh.
            if started is not None:
                started.close()
            started = None
        if not result.internal_error or attempt == 2:
            return result
    raise AssertionError("unreachable: the second attempt returns or raises")


def _prelaunch(jail: JailSettings, headstart: Headstart | None = None) -> WorkerProcess | None:
    """The student's first jail, started now (as JailSettings `jail` says) so that it
    boots (bwrap, Python, NumPy) while the notebook is read: it is sent nothing until
    grade_code runs the cells. The Headstart's jail when it has one of that mode and
    those limits (started before the grader's imports). None when it cannot start here
    (grade_code then starts one, and says why not)."""
    early = headstart.take_jail(jail.mode, jail.limits) if headstart is not None else None
    if early is not None:
        return early
    try:
        return WorkerProcess(jail.limits, sandbox=jail.mode)
    except Exception:  # noqa: BLE001 - see the docstring
        return None


def _secrets(assignment: Assignment, submissions: str | Path, out: Path,
             closed: Sequence[str] = ()) -> list[str]:
    """Paths whose mere opening by student code is noted as tampering (of `closed`:
    all but the way to the worker's Python, see sandbox.container.closing)."""
    from .sandbox.container import closing
    grader = Path(__file__).resolve().parent
    paths = [grader, assignment.source.parent, Path(submissions), Path(out)]
    # SUBMISSIONS given as a course's submitted/ folder: the course beside it is closed too.
    course = enclosing_course(submissions)
    if course is not None:
        paths.append(course)
    if assignment.package_dir:
        paths.append(assignment.package_dir)
    return [str(p.resolve()) for p in paths] + [str(p) for p in closing(closed)[0]]


def sandbox_mode(opts: Options) -> Mode:
    """The sandbox mode `opts` asks for; UsageError (one line) when it cannot run here."""
    if opts.unsafe:
        return modes.UNSAFE
    try:
        return modes.select(opts.sandbox, writable=opts.writable)
    except SandboxUnavailable as e:
        raise UsageError(f"{e} (--unsafe-no-sandbox runs student code unconfined: only for "
                         "code you trust)") from None


def _start_sandbox(mode: Mode, opts: Options, secrets: Sequence[str]) -> None:
    """Get `mode` ready (container mode first locks the grader's paths away; a mode's
    font list starts building) and say so."""
    if hasattr(mode, "prepare") and hasattr(mode, "close"):
        try:
            mode.prepare(sys.executable, extra=[*secrets, *opts.closed])
        except SandboxUnavailable as e:
            mode.close()
            raise UsageError(str(e)) from None
    modes.prefetch(mode, sys.executable)
    print(mode.describe(Limits(memory_mb=opts.memory_mb)), file=sys.stderr, flush=True)


def jail_settings(opts: Options, mode: Mode, secrets: Sequence[str]) -> JailSettings:
    """The run's JailSettings: `mode`, `secrets`, and the caps `opts` asks for (the
    budget: --budget, else default_budget(--timeout))."""
    budget = opts.budget if opts.budget is not None else default_budget(opts.timeout)
    return JailSettings(mode=mode, limits=Limits(memory_mb=opts.memory_mb),
                        timeout=opts.timeout, budget=budget, secrets=tuple(secrets))


def load_assignment(name: str | None = None) -> tuple[Assignment, Spec]:
    """The Assignment and its Spec; a broken or unknown one is a usage error."""
    try:
        assignment = get(name)
        return assignment, load_spec(assignment)
    except AssignmentError as e:
        raise UsageError(str(e)) from None


def asked(opts: Options) -> Asked:
    """The settings of `opts` a Headstart must have been made for to serve this run."""
    return Asked(sandbox=str(opts.sandbox), unsafe=opts.unsafe, memory_mb=opts.memory_mb)


def grade(submissions: str | Path, out: str | Path, opts: Options = Options(), *,
          headstart: Headstart | None = None) -> tuple[Spec, list[StudentResult]]:
    """Grade every submission; returns (Spec, StudentResults in submission order).
    `headstart` (made by the caller, who closes it; see headstart.py): its mode, jail
    and reader child serve this run when made for its settings (container mode's
    `writable` aside), else it is ignored."""
    if headstart is not None and (not headstart.serves(asked(opts)) or opts.writable is not None):
        headstart.close()
        headstart = None
    mode = headstart.mode if headstart is not None else sandbox_mode(opts)
    assignment, spec = load_assignment(opts.assignment)
    if opts.lms_column and not opts.roster:
        raise UsageError("--lms-column names the grade column of the LMS files: it needs --roster")
    roster = _roster(opts.roster)
    found = find(submissions, spec.name)
    if Path(found.root) != Path(submissions):
        print(f"reading {found.layout}", file=sys.stderr)
    _check_paths(found.root, out, given=submissions)
    subs = found.submissions
    JailCgroups.remove_stale()
    out = _out_folder(out)
    grader = grader_fingerprint(assignment.files())
    store = ResultStore(out)
    # The outlines are kept for formgrader's copies when a gradebook may be written.
    course = opts.gradebook == "yes" or (
        opts.gradebook == "auto" and (len(subs) > 1 or roster is not None))

    course_writer = _preload_reports(gradebook=course,
                                     release=getattr(assignment, "release", None))
    jobs = opts.jobs or os.cpu_count() or 1
    timers = _Timers(assignment.timer_reference,
                     needed=any(assignment.checks[t.grade_id].timed for t in spec.tests))
    secrets = _secrets(assignment, submissions, out, opts.closed)
    _start_sandbox(mode, opts, secrets)
    jail = jail_settings(opts, mode, secrets)
    bar = _progress(total=len(subs), initial=0, show=opts.progress)
    # The checks' own arithmetic (references, diagnoses) is on small matrices: one BLAS
    # thread does it faster than several spinning beside the jobs, and leaves the cores
    # to the jails. Process-wide, once: the jobs are threads of this process.
    threadpool_limits(1)
    results, shown = {}, {}
    reading = readers()
    pool = ThreadPoolExecutor(max_workers=jobs)
    try:
        futures = {pool.submit(read_and_grade, s, store=store, outline=course, timers=timers,
                               assignment=assignment, spec=spec, grader=grader, opts=opts,
                               jail=jail, readers=reading, headstart=headstart): s
                   for s in subs}
        _import_ahead(batch=len(subs) > 1 or roster is not None,
                      prepare=getattr(assignment, "prepare", None))
        for fut in as_completed(futures):
            sub = futures[fut]
            try:
                graded = fut.result()
            except Exception as e:  # noqa: BLE001 - a grader bug must not stop the batch
                graded = Graded(crashed(sub.student_id, grader, e), Shown(), fresh=False)
            if graded.fresh:
                for_each_student([graded.result], "stored result", store.save)
            results[sub.student_id] = graded.result
            shown[sub.student_id] = graded.shown
            bar.update(1)
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()
        if headstart is not None:
            headstart.close()       # what no student took (a stored result was reused)
        if hasattr(mode, "close"):
            mode.close()
        # The reference timers and reader children end while the reports are written: each
        # close waits for its process to be gone (5-7 ms for a timer), which no report needs.
        ending = threading.Thread(target=_close_all, args=(timers, reading), name="end-helpers")
        ending.start()

    ordered = [results[s.student_id] for s in subs]
    from autograder import report as reports
    matched = None
    if roster is not None:
        matched = reports.lms.match(roster, ordered)
        ordered += [reports.lms.no_submission_result(e, spec, grader) for e in matched.missing]
    try:
        write_outputs(ordered, spec, out, gradebook=opts.gradebook == "yes" or
                      (opts.gradebook == "auto" and len(ordered) > 1),
                      notebooks=shown,
                      course_root=assignment.source.parents[2], release=assignment.release,
                      course_writer=course_writer)
    finally:
        if course_writer is not None:
            course_writer.close()
        ending.join()
    if matched is not None:
        reports.lms.write_lms_files(matched, spec, out, column=opts.lms_column)
        _say_roster(matched, out)
    return spec, ordered


def _close_all(*helpers: PerThread) -> None:
    for helper in helpers:
        helper.close()


class _NoProgress:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(*, total: int, initial: int, show: bool) -> Any:
    """The progress bar (tqdm's) when shown, else one that does nothing: without a bar
    (--no-progress, Gradescope, PrairieLearn) tqdm is not even imported (~40 ms)."""
    if not show:
        return _NoProgress()
    from tqdm import tqdm
    return tqdm(total=total, initial=initial, unit="nb", desc="grading", dynamic_ncols=True)


def _preload_reports(*, gradebook: bool,
                     release: Path | None = None) -> CourseWriter | None:
    """Prepare, while the students are graded, what the reports written after grading
    need. The course output (nbgrader's import, about a second of CPU, and the `release`
    notebook's Markdown) in a child forked now, which then writes it (CourseWriter):
    on another core, outside this process's GIL, which the grading threads need (the
    report modules: `_import_ahead`). Called before any other thread of the run
    starts (the fork). A failure here shows again, with its traceback, where the report
    is written. Returns the CourseWriter, or None (the course output is then written in
    this process)."""
    writer = None
    if gradebook:
        from autograder.record.nbgrader import course
        try:
            writer = course.CourseWriter(release=release, on_error=unwritten)
        except Exception:  # noqa: BLE001 - see the docstring
            writer = None

    return writer


def _import_ahead(*, batch: bool, prepare: Callable[[], object] | None = None) -> None:
    """Import, in a background thread, what would otherwise be imported on first use on
    the way of the first student's result, in the order it is needed: the jail's wire
    format (its first request), NumPy's random module (NumPy loads it on first use, about
    10 ms: the first check that builds inputs with it), then what the assignment makes
    alike for every student (`prepare`: its input plans), the report modules (jinja2,
    the feedback template: tens of ms after the last check) and, for a batch,
    matplotlib for its histogram. Started once the students are submitted to the
    grading threads, it runs while they wait for the reader and the jails (which release
    the GIL) rather than beside the run's own setup. A failure here shows again, with
    its traceback, where the module or the plan is used."""
    def work() -> None:
        try:
            import autograder.sandbox.worker  # noqa: F401
            import numpy.random  # noqa: F401
            if prepare is not None:
                prepare()
        except Exception:  # noqa: BLE001 - see the docstring
            pass
        try:
            import autograder.report  # noqa: F401
            if batch:
                import matplotlib
                matplotlib.use("Agg")
                import matplotlib.pyplot  # noqa: F401
        except Exception:  # noqa: BLE001 - see the docstring
            pass
    threading.Thread(target=work, name="import-ahead", daemon=True).start()


def _roster(path: str | None) -> list[RosterEntry] | None:
    """The roster's entries, or None without --roster; a bad roster is a usage error."""
    if path is None:
        return None
    from autograder.report import lms
    try:
        return lms.read_roster(path)
    except lms.RosterError as e:
        raise UsageError(str(e)) from None


def _say_roster(matched: Matched, out: Path) -> None:
    """One line each for roster students without a folder and folders without a roster entry."""
    def ids(items: Sequence) -> str:
        shown = ", ".join(terminal(i) for i in items[:10])
        return shown + (f", ... ({len(items)} in all)" if len(items) > 10 else "")
    if matched.missing:
        print(f"roster: {len(matched.missing)} student(s) with no submission (0 points, flag "
              f"no_submission): {ids([e.student_id for e in matched.missing])}", file=sys.stderr)
    if matched.extra:
        print(f"roster: {len(matched.extra)} submission(s) not in the roster (graded, in "
              f"grades.csv, in no LMS file; see {Path(out) / 'roster_check.csv'}): "
              f"{ids([r.student_id for r in matched.extra])}", file=sys.stderr)


def unwritten(student_id: str, what: str, error: BaseException) -> None:
    """The one line that says a student's `what` could not be written, and what to do."""
    print(f"could not write the {what} of {terminal(student_id)} "
          f"({type(error).__name__}: {terminal(error)}); the other students' files are "
          "written; run the same command again to write it", file=sys.stderr, flush=True)


def for_each_student(results: Iterable[StudentResult], what: str,
                     write: Callable[[StudentResult], object], *,
                     paths: Callable[[StudentResult], Iterable[Path]] | None = None) -> list[str]:
    """write(result) for each result; a failure costs that student's `what` only
    (said by `unwritten`), and removes the files `paths(result)` names, so no copy of
    an earlier run is taken for this one. Returns the ids whose `what` was not written."""
    failed = []
    for r in results:
        try:
            write(r)
        except Exception as e:  # noqa: BLE001 - one student's files never stop the others'
            unwritten(r.student_id, what, e)
            failed.append(r.student_id)
            for path in paths(r) if paths else ():
                try:
                    Path(path).unlink(missing_ok=True)
                except OSError:
                    pass
    return failed


def write_outputs(results: Sequence[StudentResult], spec: Spec, out: str | Path, *,
                  gradebook: bool = True,
                  notebooks: Mapping[str, Shown | None] | None = None,
                  course_root: Path | None = None, release: Path | None = None,
                  course_writer: CourseWriter | None = None) -> list[str]:
    """Every report, from the results alone; the gradebook and histogram when asked.

    A batch (more than one student) also gets the class report and mistakes.csv.
    A single submission (the Gradescope case) skips the histogram, the class
    report and, by default, the gradebook: nbgrader's import alone costs about two seconds.
    `notebooks` (student id -> submissions.notebook.Shown) gives formgrader's copies:
    the outlines read with the code that was graded; the files are not read again.
    Returns the ids of the students whose feedback or Gradescope file failed.
    """
    from autograder import report as reports
    out = Path(out)
    reports.write_grades_csv(results, spec, out / "grades.csv")
    failed = for_each_student(
        results, "feedback and Gradescope results",
        lambda r: (reports.write_feedback(r, spec, out), reports.write_gradescope(r, spec, out)),
        paths=lambda r: (reports.feedback_path(r, spec, out), reports.gradescope_path(r, out)))
    if len(results) > 1:
        reports.write_histogram(results, spec, out / "score_histogram.png")
        reports.write_class_report(results, spec, out / "class_report.html")
        reports.write_mistakes_csv(results, spec, out / "mistakes.csv")
    if gradebook:
        from autograder.record.nbgrader import course   # imports nbgrader: only when needed
        # OUT becomes an nbgrader course root (config, autograded/, gradebook.db),
        # so formgrader, `nbgrader export` and generate_feedback work on it. A roster
        # student who submitted nothing has no submission there, as in nbgrader.
        submitted = [r for r in results if Flag.NO_SUBMISSION not in r.flags]
        write_course = (course_writer.write if course_writer is not None
                        else partial(course.write_course, on_error=unwritten))
        write_course(out, results=submitted, spec=spec, notebooks=notebooks or {},
                     course_root=course_root, release=release)
    return failed

"""OUT as an nbgrader course root, so that nbgrader's own tools read our grades.

`write_course` writes it in this order: the config, the autograded notebooks
(autograded.py), then the gradebook (gradebook.py). Guarantees:
- `OUT/nbgrader_config.py` makes OUT the course root of `nbgrader export`,
  `generate_feedback`, `release_feedback` and formgrader (`jupyter lab` started
  in OUT). It loads the course's own config (course id, exchange) and points
  nbgrader's CSV export to `nbgrader_grades.csv` and nbgrader's feedback to
  `nbgrader_feedback/`, so nbgrader never overwrites our `grades.csv` or
  `feedback/`.
- autograded/ and submitted/ as autograded.py says, gradebook.db as gradebook.py says.
"""
from pathlib import Path

from autograder.record.store import atomic_write
from . import autograded, gradebook

CONFIG = '''"""nbgrader configuration of this grading output (written by `python -m autograder grade`).

Run nbgrader's tools from this folder: `nbgrader export` (writes nbgrader_grades.csv),
`nbgrader generate_feedback {name}` (nbgrader_feedback/), `nbgrader release_feedback {name}`,
or `jupyter lab` here and open Nbgrader -> Formgrader.
"""
import os

c = get_config()  # noqa: F821  (injected by traitlets)
COURSE_CONFIG = {course_config!r}
if COURSE_CONFIG and os.path.exists(COURSE_CONFIG):
    load_subconfig(COURSE_CONFIG)  # noqa: F821  the course id and exchange of the course

HERE = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.root = HERE
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(HERE, "gradebook.db")
c.CourseDirectory.source_directory = {source_dir!r}
c.CourseDirectory.autograded_directory = "autograded"
# Never overwrite the grader's own grades.csv and feedback/.
c.CsvExportPlugin.to = "nbgrader_grades.csv"
c.CourseDirectory.feedback_directory = "nbgrader_feedback"
# release_feedback releases what came through the exchange and names the rest
# (nbgrader's own stops with a traceback at the first submission made otherwise).
c.ExchangeFactory.release_feedback = "autograder.release.exchange.ReleaseFeedback"
'''


def write_config(out, *, name, course_root):
    """OUT/nbgrader_config.py for the course whose root holds nbgrader_config.py."""
    if course_root is None:
        course_config, source_dir = "", "source"
    else:
        course_root = Path(course_root).resolve()
        course_config = str(course_root / "nbgrader_config.py")
        source_dir = str(course_root / "solutions")
    text = CONFIG.format(name=name, course_config=course_config, source_dir=source_dir)
    atomic_write(Path(out) / "nbgrader_config.py", text)


def preload(release=None, *, waiting=None):
    """What write_course needs, ready before it is called: nbgrader imported
    (gradebook.preload), the `release` notebook's Markdown rendered (kept between runs by
    autograded.release_markdown), then the renderer a changed Markdown cell needs
    (gradebook.preload_renderer), unless `waiting()` says the write is asked for already:
    a student's cell left as released needs no renderer, and one that does imports it
    where it is rendered. The course writer's child calls it while the students are
    graded; a failure here shows again, with its traceback, in write_course."""
    gradebook.preload()
    if release is not None:
        try:
            autograded.release_markdown(release)
        except Exception:  # noqa: BLE001 - see the docstring
            pass
    if waiting is None or not waiting():
        gradebook.preload_renderer()


def write_course(out, *, results, spec, notebooks, course_root, on_error=None, release=None):
    """OUT as an nbgrader course: config, autograded notebooks, then the gradebook.

    `notebooks` maps student id -> its submissions.notebook.Shown (the outline graded
    and the folder submitted in), or None;
    `on_error`: see `gradebook.record` (it also covers each student's autograded notebook);
    `release`: the released notebook, whose Markdown keeps its formulas typeset.
    """
    # First: the autograded notebooks render Markdown with nbconvert, which imports
    # jsonschema too; imported here first, it comes without the IRI grammar.
    gradebook.nbgrader_api()
    gradebook.lean_nbconvert()
    out = Path(out)
    write_config(out, name=spec.name, course_root=course_root)
    trusted = autograded.release_markdown(release) if release else {}
    autograded.write_autograded(out, results=results, spec=spec, notebooks=notebooks,
                                on_error=on_error, trusted=trusted)
    gradebook.record(results, spec, out / "gradebook.db",
                     timestamps={sid: autograded.timestamp(s) for sid, s in notebooks.items()},
                     on_error=on_error)


class CourseWriter:
    """`write_course` done by a child forked before the students are graded: the child
    runs `preload` (nbgrader's import and the release's Markdown, about a second of
    CPU) on another core and outside this process's GIL, which the grading threads
    need, then writes the course once it is sent the results.

    Fork it while the process has no other thread (the pipeline does, before grading
    starts); the results travel pickled through a pipe, between two grader processes.
    `write` raises what write_course raised in the child; a child that is gone (killed,
    crashed) is replaced by writing here, as without it. Always `close()`.
    """

    def __init__(self, *, release=None, on_error=None):
        import multiprocessing
        ctx = multiprocessing.get_context("fork")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, release, on_error),
                                 name="course-writer", daemon=True)
        self._proc.start()
        child.close()
        self.on_error = on_error

    def write(self, out, **job):
        """write_course(out, **job, on_error=...) in the child; here if the child is gone."""
        try:
            self._conn.send((out, job))
            ok, error = self._conn.recv()
        except (EOFError, OSError):
            self.close()
            return write_course(out, on_error=self.on_error, **job)
        self._proc.join()
        if not ok:
            raise error

    def close(self):
        if self._proc.is_alive():
            self._proc.kill()
        self._proc.join()
        self._conn.close()


def _serve(conn, release, on_error):
    """The course writer's child: preload (the renderer only while no write is asked for),
    then one write_course, its outcome sent back."""
    preload(release, waiting=conn.poll)
    try:
        out, job = conn.recv()
    except (EOFError, OSError):
        return
    try:
        write_course(out, on_error=on_error, **job)
    except BaseException as e:  # noqa: BLE001 - raised again in the parent
        try:
            conn.send((False, e))
        except Exception:  # noqa: BLE001 - an exception that does not pickle
            conn.send((False, RuntimeError(f"{type(e).__name__}: {e}")))
    else:
        conn.send((True, None))

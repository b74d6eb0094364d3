"""Record the grades in an nbgrader gradebook (OUT/gradebook.db), in one transaction.

Guarantees:
- nbgrader is imported only here, and this module only when a gradebook is
  written (its import costs about two seconds).
- One transaction: a run that is interrupted, or fails half way, leaves the
  gradebook exactly as it was; a new gradebook is created without nbgrader's
  `alembic` subprocess (the schema version is read in-process).
- Re-recording updates the automatic scores and comments and keeps what an
  instructor entered in formgrader (manual scores, comments, extra credit).
- Each test's result becomes the automatic comment of the solution cell it
  tests, so formgrader and `nbgrader generate_feedback` show the hints; the
  comment is inert as Markdown (`untrusted.markdown_inert`), since
  generate_feedback renders it unsanitised.
"""
import functools
import importlib
import importlib.util
import os
import sys
import types
import warnings
from pathlib import Path

from autograder.record.store import safe_name
from autograder.wording import verdict_line
from autograder.untrusted import markdown_inert

SQLITE_MAX_VARS = 500    # rows looked up per IN (...) query
# A gradebook being built beside its place: no syncs, the journal in memory.
_UNSYNCED = ("PRAGMA synchronous = OFF", "PRAGMA journal_mode = MEMORY")

# nbgrader imports nbformat, nbformat imports jsonschema, and jsonschema's format
# checkers import rfc3987_syntax when it is installed, which builds an IRI grammar
# (a Lark Earley parser) at import: about 1.6 s, over half of nbgrader's import. The
# gradebook never validates an IRI, so that one optional import is refused while
# nbgrader loads (jsonschema then has no "iri" format checker in this process).
_UNUSED_IMPORTS = ("rfc3987_syntax",)


def _package_without_init(name, *, version=True):
    """Make `name` importable as a package whose __init__ has not run (its submodules load
    as usual), unless it is imported already; `version`: its __version__ read from its
    `_version` module. nbgrader's __init__ only loads its Jupyter server extensions
    (jupyter_server, tornado's web stack, the exchange: about a third of nbgrader's
    import), which a process writing a gradebook never serves; alembic's loads its
    migration runtime (`context`, `op`: 0.1-0.3 s), which reading the head revision
    of nbgrader's migrations does not use."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.submodule_search_locations is None:
        return                      # the import that follows fails as it would have
    package = importlib.util.module_from_spec(spec)
    if sys.modules.setdefault(name, package) is package and version:
        package.__version__ = importlib.import_module(f"{name}._version").__version__


# nbgrader.utils imports setuptools' archive functions at the top, for `unzip` (the
# zip-collect command) alone; importing setuptools costs 0.1-0.4 s. nbgrader.api imports
# nbgrader.auth for the JupyterHub Authenticator a Gradebook may be given (the grader
# gives none); its import loads requests, urllib3 and charset_normalizer (0.1-0.25 s).
# While nbgrader loads, each is a module whose names are functions that import the
# real module and call its own when first called.
_DEFERRED_IMPORTS = {"setuptools.archive_util": ("unpack_archive", "unpack_tarfile",
                                                 "unpack_zipfile"),
                     "nbgrader.auth": ("Authenticator",)}


def _deferred(module, names):
    """A module whose `names` are functions that import `module` and call its own."""
    placeholder = types.ModuleType(module, f"{module}, imported when first called")

    def function(name):
        def call(*args, **kwargs):
            return getattr(importlib.import_module(module), name)(*args, **kwargs)
        call.__name__ = call.__qualname__ = name
        return call
    for name in names:
        setattr(placeholder, name, function(name))
    return placeholder


def nbgrader_api():
    """nbgrader.api, imported without the optional modules the gradebook never uses."""
    blocked = [m for m in _UNUSED_IMPORTS if m not in sys.modules]
    for m in blocked:
        sys.modules[m] = None       # `import m` raises ImportError, which jsonschema allows
    deferred = {m: _deferred(m, names) for m, names in _DEFERRED_IMPORTS.items()
                if m not in sys.modules}
    sys.modules.update(deferred)
    try:
        _package_without_init("nbgrader")
        from nbgrader import api
    finally:
        for m in blocked:
            if sys.modules.get(m, 0) is None:
                del sys.modules[m]
        for m, placeholder in deferred.items():
            if sys.modules.get(m) is placeholder:
                del sys.modules[m]
    return api


def preload():
    """Import what writing the gradebook needs, and read the head of nbgrader's migrations
    (course.preload calls it while the students are graded, so that course.write_course
    does not wait for nbgrader's import); a failure here shows again, with its
    traceback, where the gradebook is written."""
    try:
        nbgrader_api()
        _alembic_head()
    except Exception:  # noqa: BLE001 - see the docstring
        pass


def lean_nbconvert():
    """Make nbconvert importable without its __init__ (its exporters, preprocessors and
    postprocessors: ~60 ms of CPU), which a process writing a course never uses: only its
    Markdown renderer (untrusted.markdown_html), imported from its own module. Nothing
    is imported here."""
    _package_without_init("nbconvert")


def preload_renderer():
    """Import the Markdown renderer a Markdown cell changed from the release needs
    (untrusted.markdown_html: nbconvert's renderer and bleach); a failure here shows again
    where a cell is rendered."""
    try:
        lean_nbconvert()
        from nbconvert.filters.markdown_mistune import MarkdownWithMath  # noqa: F401
        import bleach  # noqa: F401
    except Exception:  # noqa: BLE001 - see the docstring
        pass


def _script_directory():
    """alembic's ScriptDirectory, imported without alembic's __init__."""
    _package_without_init("alembic", version=False)
    from alembic.script import ScriptDirectory
    return ScriptDirectory


@functools.lru_cache(maxsize=1)
def _alembic_head():
    """The newest of nbgrader's migrations, which a new gradebook is stamped with. Read by
    alembic (~0.13 s of CPU to import it and read every migration) once for each set of
    migration files, then kept beside this module's compiled code (record/ahead.py); and
    once per process (the course writer asks in its preload, then for the new gradebook),
    as nbgrader's installed migrations do not change while it runs."""
    spec = importlib.util.find_spec("nbgrader")
    folder = Path(spec.submodule_search_locations[0]) / "alembic"

    def read():
        return _script_directory()(str(folder)).get_current_head()
    from autograder.record import ahead
    return ahead.kept(folder=Path(__file__).parent, name="nbgrader-alembic-head",
                      sources=sorted(folder.glob("versions/*.py")), make=read,
                      valid=lambda head: isinstance(head, str) and bool(head))


def _create(url):
    """A new, empty gradebook with nbgrader's schema and alembic version stamp, written
    without syncs (`record` syncs the file once and renames it into place)."""
    Base = nbgrader_api().Base
    from sqlalchemy import create_engine, event, text
    engine = create_engine(url, future=True)

    def unsynced(dbapi_connection, _record):
        for pragma in _UNSYNCED:
            dbapi_connection.execute(pragma)
    event.listen(engine, "connect", unsynced)
    try:
        with engine.begin() as conn:
            Base.metadata.create_all(bind=conn)
            conn.execute(text("CREATE TABLE alembic_version "
                              "(version_num VARCHAR(32) NOT NULL)"))
            conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"),
                         {"v": _alembic_head()})
    finally:
        engine.dispose()


def nbgrader_id(student_id):
    """The student's id in the gradebook and in autograded/: the same file-safe name as
    OUT/feedback/ (a plain id as it is; any other escaped, so no newline, formula or
    un-encodable byte reaches nbgrader's database, paths or CSV export)."""
    return safe_name(student_id)


def _comments(result, spec):
    """{solution id: text} from the test results of one student: each test's verdict on
    the solution cell its check declares as its target."""
    target = {t.grade_id: t.target for t in spec.tests}
    lines = {}
    for t in result.tests:
        sid = target.get(t.grade_id)
        if sid not in spec.solution_ids:
            continue
        lines.setdefault(sid, []).append(verdict_line(t))
    if result.problem:
        for sid in spec.solution_ids:
            lines.setdefault(sid, []).insert(0, result.problem)
    # formgrader shows a comment as text, `nbgrader generate_feedback` as Markdown.
    return {sid: markdown_inert("\n".join(v)) for sid, v in lines.items()}


def _parse_time(value):
    if not value:
        return None
    nbgrader_api()
    from nbgrader.utils import parse_utc
    try:
        return parse_utc(value)
    except (ValueError, TypeError, OverflowError):
        return None


def _chunks(items, n=SQLITE_MAX_VARS):
    items = list(items)
    for i in range(0, len(items), n):
        yield items[i:i + n]


def record(results, spec, db_path, *, timestamps=None, on_error=None):
    """Write every StudentResult into the gradebook at db_path (created if new).

    `timestamps` maps student id -> nbgrader's submission time text, if known.
    Each student is recorded in a savepoint of its own: with `on_error(student_id,
    what, exception)`, a student whose rows fail is rolled back alone and told
    there, the others are committed; without it, the failure rolls back all.
    """
    api = nbgrader_api()     # slow import: only when a gradebook is asked for

    timestamps = timestamps or {}
    db_path = Path(db_path).resolve()
    db_path.parent.mkdir(parents=True, exist_ok=True)
    if db_path.exists() and db_path.stat().st_size > 0:
        _write(api, f"sqlite:///{db_path}", results, spec, timestamps, on_error)
        return
    # A new gradebook is built whole in a file of its own beside it, without SQLite's
    # syncs (each CREATE of nbgrader's schema commits alone: some 60 syncs, 0.3-0.5 s
    # on a busy disk), synced once and renamed into place: a run that stops before the
    # rename leaves no gradebook, as before, never a part of one.
    work = db_path.with_name(f".{db_path.name}.{os.getpid()}.new")
    try:
        work.unlink(missing_ok=True)
        _create(f"sqlite:///{work}")
        _write(api, f"sqlite:///{work}", results, spec, timestamps, on_error, unsynced=True)
        _sync(work)
        os.replace(work, db_path)
    except BaseException:
        work.unlink(missing_ok=True)
        raise
    _sync(db_path.parent)


def _sync(path):
    """fsync a file or a folder (the folder: so that a rename into it is kept)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write(api, url, results, spec, timestamps, on_error, *, unsynced=False):
    """Record the results in the gradebook at url in one transaction; `unsynced` for a
    file nobody reads until it is synced and renamed (SQLite neither syncs nor keeps
    a journal on disk; a savepoint still rolls back, in memory)."""
    from sqlalchemy import text
    with warnings.catch_warnings():
        # nbgrader's own SQLAlchemy usage warns on every new submission.
        warnings.simplefilter("ignore")
        gb = api.Gradebook(url)      # the schema exists: no alembic subprocess
        s = gb.db
        try:
            if unsynced:
                for pragma in _UNSYNCED:
                    s.execute(text(pragma))
            _record(s, api, results, spec, timestamps, on_error)
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            gb.close()


def _record(s, api, results, spec, timestamps, on_error):
    q = s.query
    assignment = q(api.Assignment).filter_by(name=spec.name).one_or_none()
    if assignment is None:
        assignment = api.Assignment(name=spec.name, course_id="default_course")
        s.add(assignment)
    notebook = q(api.Notebook).filter_by(name=spec.name, assignment=assignment).one_or_none() \
        if assignment.id else None
    if notebook is None:
        notebook = api.Notebook(name=spec.name, assignment=assignment)
        s.add(notebook)

    grade_cells = {c.name: c for c in notebook.grade_cells}
    for t in spec.tests:
        cell = grade_cells.get(t.grade_id)
        if cell is None:
            cell = grade_cells[t.grade_id] = api.GradeCell(name=t.grade_id, notebook=notebook,
                                                           cell_type="code")
            s.add(cell)
        cell.max_score = t.points
    solution_cells = {c.name: c for c in notebook.solution_cells}
    for sid in spec.solution_ids:
        if sid not in solution_cells:
            solution_cells[sid] = api.SolutionCell(name=sid, notebook=notebook)
            s.add(solution_cells[sid])
    s.flush()

    ids = [nbgrader_id(r.student_id) for r in results]
    students, submissions = {}, {}
    for chunk in _chunks(ids):
        students.update({st.id: st for st in q(api.Student).filter(api.Student.id.in_(chunk))})
        submissions.update({
            sub.student_id: sub for sub in q(api.SubmittedAssignment).filter(
                api.SubmittedAssignment.assignment_id == assignment.id,
                api.SubmittedAssignment.student_id.in_(chunk))})

    cells = (grade_cells, solution_cells)
    for r, sid in zip(results, ids):
        try:
            with s.begin_nested():
                _record_student(s, api, r, sid, spec=spec, assignment=assignment,
                                notebook=notebook, cells=cells, known=(students, submissions),
                                when=_parse_time(timestamps.get(r.student_id)))
        except Exception as e:  # noqa: BLE001 - one student's rows never stop the others'
            if on_error is None:
                raise
            on_error(r.student_id, "gradebook entry", e)


def _record_student(s, api, r, sid, *, spec, assignment, notebook, cells, known, when):
    """One student's submission, grades and comments (see `record`)."""
    grade_cells, solution_cells = cells
    students, submissions = known
    student = students.get(sid)
    if student is None:
        student = students[sid] = api.Student(id=sid)
        s.add(student)
    sub = submissions.get(sid)
    if sub is None:
        sub = submissions[sid] = api.SubmittedAssignment(assignment=assignment,
                                                         student=student)
        s.add(sub)
    if when is not None:
        sub.timestamp = when
    snb = next((n for n in sub.notebooks if n.notebook is notebook), None)
    if snb is None:
        snb = api.SubmittedNotebook(notebook=notebook, assignment=sub)
        s.add(snb)
    grades = {g.cell.name: g for g in snb.grades} if snb.id else {}
    for t in spec.tests:
        if t.grade_id not in grades:
            grades[t.grade_id] = api.Grade(cell=grade_cells[t.grade_id], notebook=snb)
            s.add(grades[t.grade_id])
    points = {t.grade_id: t.points for t in r.tests}
    for gid, grade in grades.items():
        if gid in grade_cells and any(t.grade_id == gid for t in spec.tests):
            grade.auto_score = points.get(gid, 0.0)
            grade.needs_manual_grade = False
    comments = {c.cell.name: c for c in snb.comments} if snb.id else {}
    texts = _comments(r, spec)
    for cell_id in spec.solution_ids:
        comment = comments.get(cell_id)
        if comment is None:
            comment = api.Comment(cell=solution_cells[cell_id], notebook=snb)
            s.add(comment)
        comment.auto_comment = texts.get(cell_id)
    snb.flagged = bool(r.flags)

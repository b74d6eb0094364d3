"""Record the grades in an nbgrader gradebook (OUT/gradebook.db).

The instructor can then use nbgrader's own tools on it (`nbgrader export`,
formgrader for manual review) exactly as after `nbgrader autograde`.
"""
import os
import sys
import warnings
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry


def _ensure_tools_on_path():
    # nbgrader shells out to `alembic`; a venv's python run without
    # activating the venv must still find it.
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def record(results, spec, db_path):
    """Write every StudentResult into the gradebook at db_path (created if new)."""
    _ensure_tools_on_path()
    db_path = Path(db_path).resolve()
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{db_path}") as gb:
        # nbgrader's own SQLAlchemy usage warns on every new submission.
        warnings.simplefilter("ignore")
        gb.update_or_create_assignment(spec.name)
        gb.update_or_create_notebook(spec.name, spec.name)
        for test in spec.tests:
            gb.update_or_create_grade_cell(test.grade_id, spec.name, spec.name,
                                           max_score=test.points, cell_type="code")
        for sid in spec.solution_ids:
            gb.update_or_create_solution_cell(sid, spec.name, spec.name)
        for r in results:
            gb.update_or_create_student(r.student_id)
            try:
                gb.find_submission(spec.name, r.student_id)
            except MissingEntry:
                gb.add_submission(spec.name, r.student_id)
            for t in r.tests:
                grade = gb.find_grade(t.grade_id, spec.name, spec.name, r.student_id)
                grade.auto_score = t.points
                grade.needs_manual_grade = False
            nb = gb.find_submission_notebook(spec.name, spec.name, r.student_id)
            nb.flagged = bool(r.flags)
        gb.db.commit()

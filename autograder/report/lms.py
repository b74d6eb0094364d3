"""Grades in the LMS's own import format, from a roster: Canvas's and Moodle's gradebook CSVs.

`grade ... --roster ROSTER.csv` maps submission folders to LMS identities.
ROSTER.csv has a header row; `student_id` (the folder name, as in grades.csv)
is required, every other column is optional:

    student_id, name, canvas_id, sis_user_id, sis_login_id, section,
    first_name, last_name, email, username, idnumber

Written into OUT (file names in `FILES`):
- `canvas_grades.csv`: Canvas's Gradebook import layout, the columns of its own
  Gradebook export: `Student, ID, SIS User ID, SIS Login ID, Section`, then one
  column titled with the assignment (a new column name makes Canvas create the
  assignment; "Name (12345)" updates assignment 12345), a `Points Possible` row
  first, as Canvas's export has it.
- `moodle_grades.csv`: for Moodle's "Import > CSV file": `First name, Last
  name, ID number, Email address, Username` (Moodle's own export headers; the
  import maps one of ID number, email or username to the user) and the grade
  column. Moodle aborts a whole import on a user it does not know, so only
  roster students are in it.
- `roster_check.csv`: every roster student and every submission, each with its
  status (`Status`): graded, no_submission (a roster student with no folder:
  0 points, and a grades.csv row flagged `no_submission`) or not_in_roster (a
  folder nobody in the roster owns: graded, in grades.csv, in no LMS file).

Guarantees: one row per roster student in both LMS files, in roster order;
nothing from a submission that is not in the roster reaches them; every text
cell goes through `untrusted.csv_cell` (no spreadsheet formula).
"""
import csv
import io
from dataclasses import dataclass, fields

from autograder.model import Flag, StudentResult, TestResult
from autograder.record.store import atomic_write
from ..untrusted import csv_cell
from .csv_report import _Num


class RosterError(ValueError):
    """A roster that cannot be used: one line saying what is wrong."""


@dataclass(frozen=True)
class RosterEntry:
    student_id: str          # the submission folder's name (required)
    name: str = ""           # "Last, First" as Canvas shows it
    canvas_id: str = ""      # Canvas's user ID
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    username: str = ""
    idnumber: str = ""       # Moodle's "ID number"


COLUMNS = tuple(f.name for f in fields(RosterEntry))
CANVAS_HEADER = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MOODLE_HEADER = ("First name", "Last name", "ID number", "Email address", "Username")
CHECK_HEADER = ("student_id", "Status", "score", "max_score", "name", "email")
FILES = {"canvas": "canvas_grades.csv", "moodle": "moodle_grades.csv", "check": "roster_check.csv"}
# roster_check.csv's Status: a roster student with no folder has the flag's own word.
GRADED, NO_SUBMISSION, NOT_IN_ROSTER = "graded", Flag.NO_SUBMISSION.value, "not_in_roster"
MAX_ROSTER_BYTES = 10 * 1024 * 1024


def read_roster(path):
    """The roster's entries, in file order; RosterError (one line) when it cannot be used."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_ROSTER_BYTES + 1)
    except OSError as e:
        raise RosterError(f"cannot read --roster {path}: {e.strerror}") from None
    if len(data) > MAX_ROSTER_BYTES:
        raise RosterError(f"--roster {path} is over {MAX_ROSTER_BYTES // 2**20} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RosterError(f"--roster {path} is not UTF-8 text; save it as CSV UTF-8") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if "student_id" not in header:
        raise RosterError(f"--roster {path} has no student_id column (the folder names); its "
                          f"columns may be: {', '.join(COLUMNS)}")
    unknown = [h for h in header if h and h not in COLUMNS]
    if unknown:
        raise RosterError(f"--roster {path}: unknown column(s) {', '.join(unknown)}; "
                          f"known: {', '.join(COLUMNS)}")
    reader.fieldnames = header
    entries, seen = [], set()
    for line, row in enumerate(reader, start=2):
        values = {k: (row.get(k) or "").strip() for k in COLUMNS if k in header}
        if not values.get("student_id"):
            if any(values.values()):
                raise RosterError(f"--roster {path}, line {line}: no student_id")
            continue      # a blank line
        if values["student_id"] in seen:
            raise RosterError(f"--roster {path}, line {line}: student_id "
                              f"{values['student_id']!r} appears twice")
        seen.add(values["student_id"])
        entries.append(RosterEntry(**values))
    if not entries:
        raise RosterError(f"--roster {path} lists no student")
    return tuple(entries)


@dataclass(frozen=True)
class Matched:
    roster: tuple            # (RosterEntry, StudentResult), in roster order
    missing: tuple           # RosterEntry with no submission folder
    extra: tuple             # StudentResult of folders in no roster entry


def match(roster, results):
    """Pair roster entries with results by student_id (the folder name)."""
    by_id = {r.student_id: r for r in results}
    listed = {e.student_id for e in roster}
    return Matched(tuple((e, by_id.get(e.student_id)) for e in roster),
                   tuple(e for e in roster if e.student_id not in by_id),
                   tuple(r for r in results if r.student_id not in listed))


def _csv(header, rows, extra_first=()):
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([csv_cell(h) for h in header])
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    for row in [*extra_first, *rows]:
        w.writerow([v if isinstance(v, _Num) else csv_cell(v) for v in row])
    return buf.getvalue()


def _score(result):
    return _Num(result.score if result is not None else 0.0)


def canvas_csv(matched, spec, *, column):
    header = (*CANVAS_HEADER, column)
    points = ("Points Possible", "", "", "", "", _Num(spec.max_score))
    rows = [(e.name, e.canvas_id, e.sis_user_id, e.sis_login_id, e.section, _score(r))
            for e, r in matched.roster]
    return _csv(header, rows, extra_first=[points])


def moodle_csv(matched, spec, *, column):
    header = (*MOODLE_HEADER, column)
    rows = [(e.first_name, e.last_name, e.idnumber, e.email, e.username, _score(r))
            for e, r in matched.roster]
    return _csv(header, rows)


def check_csv(matched, spec):
    missing = {e.student_id for e in matched.missing}
    rows = [(e.student_id, NO_SUBMISSION if e.student_id in missing else GRADED, _score(r),
             _Num(spec.max_score), e.name, e.email) for e, r in matched.roster]
    rows += [(r.student_id, NOT_IN_ROSTER, _score(r), _Num(spec.max_score), "", "")
             for r in matched.extra]
    return _csv(CHECK_HEADER, rows)


def no_submission_result(entry, spec, grader):
    """The grades.csv row of a roster student with no folder: 0 points, flag no_submission."""
    tests = [TestResult(t.grade_id, 0.0, t.points, False, "no submission") for t in spec.tests]
    return StudentResult(entry.student_id, "", grader, tests=tests, flags=[Flag.NO_SUBMISSION],
                         problem="no submission was found for this student of the roster")


def write_lms_files(matched, spec, out, *, column=None):
    """OUT/canvas_grades.csv, OUT/moodle_grades.csv, OUT/roster_check.csv."""
    column = column or spec.name
    atomic_write(out / FILES["canvas"], canvas_csv(matched, spec, column=column))
    atomic_write(out / FILES["moodle"], moodle_csv(matched, spec, column=column))
    atomic_write(out / FILES["check"], check_csv(matched, spec))

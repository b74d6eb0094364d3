"""OUT/grades.csv: one row per student, one column per graded test cell.

Student ids are written as they are, except that a cell a spreadsheet would
run as a formula (its first non-blank character one of = + - @, or a leading
tab or carriage return) gets a leading `'`, as the OWASP CSV-injection
guidance says; every text cell of a student's row is quoted, numbers are not.
"""
import csv
import io

from autograder.record.store import atomic_write
from ..untrusted import csv_cell


class _Num(float):
    """A number csv writes bare (it is numeric) as %g: 20, 2.5."""

    def __str__(self):
        return f"{self:g}"


def write_grades_csv(results, spec, path):
    buf = io.StringIO()
    # The header is the instructor's (plain names): written as before, unquoted.
    csv.writer(buf, lineterminator="\n").writerow(
        [csv_cell(h) for h in
         ["student_id", "score", "max_score", "flags"] + [t.grade_id for t in spec.tests]])
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    for r in sorted(results, key=lambda r: r.student_id):
        points = {t.grade_id: t.points for t in r.tests}
        w.writerow([csv_cell(r.student_id), _Num(r.score), _Num(spec.max_score),
                    csv_cell(";".join(r.flags))]
                   + [_Num(points.get(t.grade_id, 0.0)) for t in spec.tests])
    atomic_write(path, buf.getvalue())

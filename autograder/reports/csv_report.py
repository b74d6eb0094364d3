"""OUT/grades.csv: one row per student, one column per graded test cell."""
import csv
import io

from ..results import atomic_write


def _num(x):
    return f"{x:g}"


def write_grades_csv(results, spec, path):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["student_id", "score", "max_score", "flags"] + [t.grade_id for t in spec.tests])
    for r in sorted(results, key=lambda r: r.student_id):
        points = {t.grade_id: t.points for t in r.tests}
        w.writerow([r.student_id, _num(r.score), _num(spec.max_score), ";".join(r.flags)]
                   + [_num(points.get(t.grade_id, 0.0)) for t in spec.tests])
    atomic_write(path, buf.getvalue())

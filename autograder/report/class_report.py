"""OUT/class_report.html and OUT/mistakes.csv: what the class got wrong, added up.

`summarise` turns the StudentResults of a batch into a `ClassSummary` (plain
records, no HTML); `write_class_report` renders it, `write_mistakes_csv` lists
every failed test as (student, test, mistake). Guarantees:
- the counts are those of grades.csv: a test counts as passed for a student
  exactly when grades.csv gives that student the test's full points, and a
  submission is flagged exactly when its `flags` cell is not empty;
- every student string (ids, problems, messages) is escaped at this sink:
  HTML by Jinja's autoescape, links by URL quoting of `results.safe_name`,
  CSV cells by `untrusted.csv_cell`; the page loads nothing and runs no
  script (its Content-Security-Policy allows only inline style and data: images).
"""
import base64
import csv
import functools
import io
import urllib.parse
from collections import Counter
from dataclasses import dataclass

from jinja2 import Environment, select_autoescape

from autograder.model import RUN_FLAGS
from autograder.record.store import atomic_write, safe_name
from ..untrusted import csv_cell, terminal
from .csv_report import _Num
from autograder.wording import flag_text, title

SLOWEST = 5          # students listed as the slowest to grade


@dataclass(frozen=True)
class Student:
    """A student as the report shows one: their id as text and a link to their feedback."""
    student_id: str
    shown: str           # untrusted.terminal(student_id): control characters made visible
    feedback: str        # relative URL of OUT/feedback/<safe name>/<assignment>.html


@dataclass(frozen=True)
class MistakeGroup:
    """The students whose failure of one test was named `mistake` (None: no mistake named)."""
    mistake: str | None
    hint: str
    students: tuple      # Student, sorted by id


@dataclass(frozen=True)
class TestSummary:
    __test__ = False     # not a pytest test class

    grade_id: str
    title: str
    points: float
    passed: int          # students with the test's full points
    failed: int
    mistakes: tuple      # MistakeGroup, most frequent first; an unnamed group last


@dataclass(frozen=True)
class Flagged:
    student: Student
    score: float
    flags: tuple         # flag names, as in grades.csv
    reasons: tuple       # one line each: the flag's text, then the result's problem


@dataclass(frozen=True)
class ClassSummary:
    assignment: str
    max_score: float
    scores: tuple        # (Student, score), sorted by id
    tests: tuple         # TestSummary, in notebook order
    flagged: tuple       # Flagged whose flags are not from running the code
    run_problems: tuple  # Flagged with a timeout, memory or crash flag
    slowest: tuple       # (Student, seconds of grading), slowest first

    @property
    def n(self):
        return len(self.scores)


def _student(student_id, assignment):
    link = f"feedback/{urllib.parse.quote(safe_name(student_id), safe='')}/" \
           f"{urllib.parse.quote(assignment, safe='')}.html"
    return Student(student_id, terminal(student_id), link)


def _groups(failures, hints):
    """MistakeGroups from [(mistake, Student)]: most frequent first, then by name;
    failures with no mistake named form one group, always last."""
    by_name: dict[str | None, list[Student]] = {}
    for mistake, student in failures:
        by_name.setdefault(mistake, []).append(student)
    named = sorted((m for m in by_name if m is not None), key=lambda m: (-len(by_name[m]), m))
    order = named + ([None] if None in by_name else [])
    return tuple(MistakeGroup(m, hints.get(m, "") if m else "",
                              tuple(sorted(by_name[m], key=lambda s: s.student_id)))
                 for m in order)


def _reasons(result):
    lines = [flag_text(f) for f in result.flags]
    if result.problem:
        lines.append(result.problem)
    return tuple(lines)


def summarise(results, spec):
    """The ClassSummary of `results` (StudentResults of one assignment)."""
    students = {r.student_id: _student(r.student_id, spec.name) for r in results}
    ordered = sorted(results, key=lambda r: r.student_id)
    tests = []
    for cell in spec.tests:
        passed = 0
        failures: list[tuple[str | None, Student]] = []
        hints: dict[str, str] = {}
        for r in ordered:
            t = next((t for t in r.tests if t.grade_id == cell.grade_id), None)
            if t is not None and t.passed and t.points >= cell.points:
                passed += 1
                continue
            mistake = t.mistake if t is not None else None
            if mistake and t is not None and t.hint:
                hints.setdefault(mistake, t.hint)
            failures.append((mistake or None, students[r.student_id]))
        tests.append(TestSummary(cell.grade_id, title(cell), cell.points, passed,
                                 len(failures), _groups(failures, hints)))
    flagged: list[Flagged] = []
    run_problems: list[Flagged] = []
    for r in ordered:
        if not (r.flags or r.problem):
            continue
        entry = Flagged(students[r.student_id], r.score, tuple(r.flags), _reasons(r))
        (run_problems if set(r.flags) & RUN_FLAGS else flagged).append(entry)
    timed = [(students[r.student_id], sum(r.timings.values())) for r in ordered if r.timings]
    slowest = sorted(timed, key=lambda x: (-x[1], x[0].student_id))[:SLOWEST]
    return ClassSummary(spec.name, spec.max_score,
                        tuple((students[r.student_id], r.score) for r in ordered),
                        tuple(tests), tuple(flagged), tuple(run_problems), tuple(slowest))


# ------------------------------------------------------------------ plots

def _png(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _plots(summary):
    """{name: data URI} of the score histogram and the per-test outcome bars."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    plots = {}
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    bins = [x - 0.5 for x in range(int(summary.max_score) + 2)]
    ax.hist([s for _, s in summary.scores], bins=bins, color="#3b7dd8", edgecolor="white")
    ax.set_xlabel(f"score (out of {summary.max_score:g})")
    ax.set_ylabel("students")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    plots["scores"] = _png(fig)
    plt.close(fig)

    # Instructor's names only on the axes (test titles): no student string is drawn.
    fig, ax = plt.subplots(figsize=(6.5, 0.45 * len(summary.tests) + 1.2))
    titles = [t.title for t in summary.tests][::-1]
    passed = [t.passed for t in summary.tests][::-1]
    named = [sum(len(g.students) for g in t.mistakes if g.mistake) for t in summary.tests][::-1]
    other = [t.failed - n for t, n in zip(summary.tests[::-1], named)]
    ax.barh(titles, passed, color="#1a7f37", label="passed")
    ax.barh(titles, named, left=passed, color="#e5a50a", label="failed: mistake named")
    ax.barh(titles, other, left=[p + n for p, n in zip(passed, named)], color="#b42318",
            label="failed: other")
    ax.set_xlabel("students")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False, fontsize=8)
    fig.tight_layout()
    plots["tests"] = _png(fig)
    plt.close(fig)
    return plots


# ------------------------------------------------------------------ HTML

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>{{ s.assignment }}: class report</title>
<style>
body{font-family:system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.5rem} h2{font-size:1.2rem;margin-top:2rem} h3{font-size:1rem;margin-bottom:.3rem}
table{border-collapse:collapse;width:100%} td,th{border-bottom:1px solid #ddd;padding:.35rem;text-align:left;vertical-align:top}
.num{text-align:right;font-variant-numeric:tabular-nums} .muted{color:#666}
.hint{color:#555;font-size:.9rem} ul.students{margin:.2rem 0 .6rem 0;padding-left:1.2rem}
ul.students li{display:inline;margin-right:.8rem} img{max-width:100%}
</style></head><body>
<h1>{{ s.assignment }}: class report</h1>
<p id="overview"><span id="n-students">{{ s.n }}</span> submissions, out of {{ "%g"|format(s.max_score) }} points:
mean {{ "%.1f"|format(mean) }}, median {{ "%g"|format(median) }}, min {{ "%g"|format(lo) }}, max {{ "%g"|format(hi) }};
<span id="n-flagged">{{ s.flagged|length + s.run_problems|length }}</span> flagged.</p>

<h2>Score distribution</h2>
<img alt="histogram of the scores" src="{{ plots.scores }}">
<table id="score-counts"><thead><tr><th>score</th><th class="num">students</th></tr></thead><tbody>
{% for score, count in distribution %}<tr data-score="{{ '%g'|format(score) }}"><td>{{ "%g"|format(score) }}</td><td class="num">{{ count }}</td></tr>{% endfor %}
</tbody></table>

<h2>Tests: pass rate and mistakes</h2>
<img alt="per test: students who passed, failed with a named mistake, failed otherwise" src="{{ plots.tests }}">
<table id="tests"><thead><tr><th>test</th><th class="num">points</th><th class="num">passed</th><th class="num">failed</th><th class="num">rate</th></tr></thead><tbody>
{% for t in s.tests %}<tr data-test="{{ t.grade_id }}"><td><a href="#{{ t.grade_id }}">{{ t.title }}</a></td><td class="num">{{ "%g"|format(t.points) }}</td>
<td class="num passed">{{ t.passed }}</td><td class="num failed">{{ t.failed }}</td><td class="num">{{ "%.0f"|format(100 * t.passed / s.n if s.n else 0) }}%</td></tr>{% endfor %}
</tbody></table>
{% for t in s.tests %}{% if t.mistakes %}
<section class="test" id="{{ t.grade_id }}"><h3>{{ t.title }} <span class="muted">({{ t.grade_id }}): {{ t.failed }} of {{ s.n }} failed</span></h3>
{% for g in t.mistakes %}<div class="mistake" data-mistake="{{ g.mistake or '' }}">
<strong>{% if g.mistake %}{{ g.mistake }}{% else %}failed, no mistake named{% endif %}</strong>: <span class="count">{{ g.students|length }}</span>
{% if g.hint %}<div class="hint">{{ g.hint }}</div>{% endif %}
<ul class="students">{% for st in g.students %}<li><a href="{{ st.feedback }}">{{ st.shown }}</a></li>{% endfor %}</ul></div>
{% endfor %}</section>{% endif %}{% endfor %}

<h2>Flagged submissions</h2>
{% if s.flagged %}<table id="flagged"><thead><tr><th>student</th><th class="num">score</th><th>flags</th><th>why</th></tr></thead><tbody>
{% for f in s.flagged %}<tr><td><a href="{{ f.student.feedback }}">{{ f.student.shown }}</a></td><td class="num">{{ "%g"|format(f.score) }}</td><td>{{ f.flags|join(", ") }}</td><td>{{ f.reasons|join(" ") }}</td></tr>{% endfor %}
</tbody></table>{% else %}<p>None.</p>{% endif %}

<h2>Timeouts, memory and crashes</h2>
{% if s.run_problems %}<table id="run-problems"><thead><tr><th>student</th><th class="num">score</th><th>flags</th><th>why</th></tr></thead><tbody>
{% for f in s.run_problems %}<tr><td><a href="{{ f.student.feedback }}">{{ f.student.shown }}</a></td><td class="num">{{ "%g"|format(f.score) }}</td><td>{{ f.flags|join(", ") }}</td><td>{{ f.reasons|join(" ") }}</td></tr>{% endfor %}
</tbody></table>{% else %}<p>None.</p>{% endif %}

<h2>Slowest to grade</h2>
{% if s.slowest %}<table id="slowest"><thead><tr><th>student</th><th class="num">seconds</th></tr></thead><tbody>
{% for st, secs in s.slowest %}<tr><td><a href="{{ st.feedback }}">{{ st.shown }}</a></td><td class="num">{{ "%.1f"|format(secs) }}</td></tr>{% endfor %}
</tbody></table>{% else %}<p class="muted">No timings (results from an older grader).</p>{% endif %}
<p class="muted">Per student: <code>feedback/&lt;student&gt;/{{ s.assignment }}.html</code>; every failed test: <code>mistakes.csv</code>.</p>
</body></html>
"""

@functools.lru_cache(maxsize=1)
def _template():
    """The page's compiled template, made on first use: a one-student run writes no class
    report, and compiling it costs ~20 ms of every run's start otherwise."""
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    return env.from_string(TEMPLATE)


def render(summary):
    """The report page of `summary` as one self-contained HTML string."""
    scores = sorted(s for _, s in summary.scores)
    n = len(scores)
    median = (scores[n // 2] if n % 2 else (scores[n // 2 - 1] + scores[n // 2]) / 2) if n else 0
    return _template().render(
        s=summary, plots=_plots(summary), mean=sum(scores) / n if n else 0.0, median=median,
        lo=scores[0] if n else 0, hi=scores[-1] if n else 0,
        distribution=sorted(Counter(scores).items()))


def write_class_report(results, spec, path):
    atomic_write(path, render(summarise(results, spec)))


MISTAKES_HEADER = ("student_id", "test", "mistake", "points_lost")


def write_mistakes_csv(results, spec, path):
    """One row per failed test of each student, in grades.csv's order: the mistake's
    name, or an empty cell when the check named none."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(MISTAKES_HEADER)
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    for r in sorted(results, key=lambda r: r.student_id):
        got = {t.grade_id: t for t in r.tests}
        for cell in spec.tests:
            t = got.get(cell.grade_id)
            if t is not None and t.passed and t.points >= cell.points:
                continue
            lost = cell.points - (t.points if t is not None else 0.0)
            w.writerow([csv_cell(r.student_id), cell.grade_id,
                        (t.mistake or "") if t is not None else "", _Num(lost)])
    atomic_write(path, buf.getvalue())

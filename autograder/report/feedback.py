"""OUT/feedback/<student_id>/softmax.html: each test, its points and a hint.

Unlike nbgrader's own feedback, it shows neither hidden test code nor any
hidden expected value: only what the student's code did and what to try.
Everything from the submission (the id, messages) is HTML-escaped; the
folder is `results.safe_name(student_id)`, checked to stay inside OUT.
"""
from jinja2 import Environment, select_autoescape

from autograder.record.store import atomic_write, inside, safe_name

from autograder import wording

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{{ assignment }} feedback: {{ r.student_id }}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem} table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.5rem;text-align:left;vertical-align:top}
.pass{color:#1a7f37}.fail{color:#b42318}.hint{background:#fff8e1;padding:.4rem .6rem;margin-top:.3rem}
.flags{background:#fdecea;padding:.6rem}
</style></head><body>
<h1>{{ assignment }}: feedback for {{ r.student_id }}</h1>
<p><strong>Score: {{ "%g"|format(r.score) }} / {{ "%g"|format(max_score) }}</strong></p>
{% if r.problem %}<p class="flags">{{ r.problem }}</p>{% endif %}
{% if r.flags %}<div class="flags"><ul>{% for f in r.flags %}<li>{{ flag_text(f) }}</li>{% endfor %}</ul></div>{% endif %}
<table><thead><tr><th>Test</th><th>Points</th><th>Result</th></tr></thead><tbody>
{% for t in r.tests %}<tr>
<td>{{ titles.get(t.grade_id) or title_of(t.grade_id) }}</td>
<td>{{ "%g"|format(t.points) }} / {{ "%g"|format(t.max_points) }}</td>
<td>{% if t.passed %}<span class="pass">passed</span>{% else %}<span class="fail">failed</span>{% endif %}
{% if t.message %}<div>{{ t.message }}</div>{% endif %}
{% if t.hint %}<div class="hint"><strong>Hint:</strong> {{ t.hint }}</div>{% endif %}</td>
</tr>{% endfor %}</tbody></table>
</body></html>
"""

_env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
_template = _env.from_string(TEMPLATE)


def feedback_path(result, spec, out_dir):
    """OUT/feedback/<safe name>/<assignment>.html: the id is never used as a path as it is."""
    return inside(out_dir, "feedback", safe_name(result.student_id), f"{spec.name}.html")


def write_feedback(result, spec, out_dir):
    html = _template.render(r=result, max_score=spec.max_score, assignment=spec.name,
                            flag_text=wording.flag_text, titles=wording.titles(spec),
                            title_of=wording.title_of)
    # The id is escaped in the page (autoescape).
    atomic_write(feedback_path(result, spec, out_dir), html)

"""A StudentResult in Gradescope's results.json format.

Follows Gradescope's autograder specification: top-level `score`,
`execution_time`, `output`, `stdout_visibility`, and one `tests[]` entry per
graded test cell (`name`, `score`, `max_score`, `status`, `output` with the
hint, `visibility`). Guarantees, whatever the visibilities:
- nothing the student can see before a test's own visibility allows says how
  that test went: the top-level output counts only the tests shown now, and
  problems met while the code ran (timeout, memory, crash) sit in a test entry
  as late as the latest test;
- every text is bounded (student code controls exception messages) and shown
  as plain text, never as HTML or Markdown.
The CLI writes OUT/gradescope/<student_id>/results.json with every test visible.
"""
import json

from ..results import atomic_write, inside, safe_name
from .feedback import FLAG_TEXT, test_title

VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")
WHEN = {"after_due_date": "after the due date", "after_published": "when grades are published",
        "hidden": "to the course staff only"}
# Flags that come from running the code, perhaps on hidden inputs.
RUN_FLAGS = ("timeout", "memory", "crash")
MAX_TEST_OUTPUT = 4000
MAX_OUTPUT = 8000


def _bounded(text, limit):
    return text if len(text) <= limit else text[: limit - 40] + "\n[... cut: too long]"


def _points(x):
    return f"{x:g}"


def _test_entry(number, t, visibility):
    output = t.message or ("passed" if t.passed else "failed")
    if t.hint:
        output += f"\nHint: {t.hint}"
    return {
        "name": test_title(t.grade_id),
        "number": str(number),
        "tags": [t.grade_id],
        "score": t.points,
        "max_score": t.max_points,
        "status": "passed" if t.passed else "failed",
        "output": _bounded(output, MAX_TEST_OUTPUT),
        "output_format": "text",
        "visibility": visibility,
    }


def _latest(visibilities):
    return max(visibilities, key=VISIBILITIES.index, default="visible")


def _summary(result, entries):
    """The top-level output: what the student may see at once."""
    if result.problem:
        # Nothing ran, so nothing here can map a hidden test.
        return [f"Not graded: {result.problem}.",
                f"Score: {_points(result.score)} / {_points(result.max_score)}"]
    lines = []
    for flag in result.flags:
        if flag not in RUN_FLAGS:
            lines.append(FLAG_TEXT.get(flag, flag))
    now = [e for e in entries if e["visibility"] == "visible"]
    late = [e for e in entries if e["visibility"] != "visible"]
    if not late:
        lines.insert(0, f"Score: {_points(result.score)} / {_points(result.max_score)}")
        return lines
    if now:
        lines.insert(0, f"Tests shown now: {_points(sum(e['score'] for e in now))} / "
                        f"{_points(sum(e['max_score'] for e in now))} points.")
    for vis in VISIBILITIES[1:]:
        group = [e for e in late if e["visibility"] == vis]
        if group:
            lines.append(f"{len(group)} tests ({_points(sum(e['max_score'] for e in group))} "
                         f"points) use hidden inputs: their results are shown {WHEN[vis]}.")
    return lines


def results_json(result, spec, *, visibility=None, execution_time=None):
    """The results.json document; `visibility` maps grade_id -> Gradescope visibility
    (default: every test "visible")."""
    visibility = visibility or {}
    entries = [_test_entry(i, t, visibility.get(t.grade_id, "visible"))
               for i, t in enumerate(result.tests, 1)]
    run_flags = [f for f in result.flags if f in RUN_FLAGS]
    lines = _summary(result, entries)
    if run_flags:
        entries.append({
            "name": "Problems while running your code",
            "number": str(len(entries) + 1),
            "score": 0.0,
            "max_score": 0.0,
            "status": "failed",
            "output": "\n".join(FLAG_TEXT[f] for f in run_flags),
            "output_format": "text",
            "visibility": _latest(e["visibility"] for e in entries),
        })
    doc = {"score": result.score,
           "output": _bounded("\n".join(lines), MAX_OUTPUT),
           "output_format": "text",
           "stdout_visibility": "hidden",
           "tests": entries}
    if execution_time is not None:
        doc["execution_time"] = int(round(execution_time))
    return doc


def write_gradescope(result, spec, out_dir):
    path = inside(out_dir, "gradescope", safe_name(result.student_id), "results.json")
    atomic_write(path, json.dumps(results_json(result, spec), indent=2))

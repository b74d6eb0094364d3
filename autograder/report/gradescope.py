"""A StudentResult in Gradescope's results.json format.

Follows Gradescope's autograder specification: top-level `score`,
`execution_time`, `output`, `stdout_visibility`, and `tests[]` entries (`name`,
`score`, `max_score`, `status`, `output` with the hint, `visibility`). What is
shown, and when, is `visibility.plan`'s (read its guarantees): per graded test
cell, the checks of the student's notebook (when they were run) and the hidden
tests, each its own entry; the top-level output is the plan's summary, shown at
once. Every text is bounded (student code controls exception messages) and
shown as plain text, never as HTML or Markdown.
The CLI writes OUT/gradescope/<student_id>/results.json with every test visible.
"""
import json

from autograder.record.store import atomic_write, inside, safe_name
from autograder.model import Visibility

from .visibility import Policy, plan

MAX_TEST_OUTPUT = 4000
MAX_OUTPUT = 8000
# The CLI's copy, for the instructor: everything shown.
ALL_VISIBLE = Policy(hidden_tests=Visibility.VISIBLE)


def _bounded(text, limit):
    return text if len(text) <= limit else text[: limit - 40] + "\n[... cut: too long]"


def _entry(number, item):
    entry = {
        "name": item.title,
        "number": str(number),
        "score": item.score,
        "max_score": item.max_score,
        "status": "passed" if item.passed else "failed",
        "output": _bounded(item.text, MAX_TEST_OUTPUT),
        "output_format": "text",
        "visibility": item.visibility.value,
    }
    if item.grade_id:
        entry["tags"] = [item.grade_id, item.part.value]
    return entry


def results_json(result, spec, *, policy=None, hidden_cells=None, execution_time=None):
    """The results.json document of `result` under `policy` (default: all visible);
    `hidden_cells`: grade_ids of the test cells with hidden tests (None: all)."""
    p = plan(result, policy or ALL_VISIBLE, hidden_cells, spec=spec)
    doc = {"score": p.score,
           "output": _bounded("\n".join(p.now), MAX_OUTPUT),
           "output_format": "text",
           "stdout_visibility": Visibility.HIDDEN,
           "tests": [_entry(i, item) for i, item in enumerate(p.items, 1)]}
    if execution_time is not None:
        doc["execution_time"] = int(round(execution_time))
    return doc


def gradescope_path(result, out_dir):
    """OUT/gradescope/<safe name>/results.json."""
    return inside(out_dir, "gradescope", safe_name(result.student_id), "results.json")


def write_gradescope(result, spec, out_dir):
    atomic_write(gradescope_path(result, out_dir), json.dumps(results_json(result, spec), indent=2))

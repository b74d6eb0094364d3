"""OUT/gradescope/<student_id>/results.json in Gradescope's autograder format."""
import json

from ..results import atomic_write
from .feedback import test_title


def results_json(result, spec):
    tests = []
    for i, t in enumerate(result.tests, 1):
        output = t.message or ("passed" if t.passed else "failed")
        if t.hint:
            output += f"\nHint: {t.hint}"
        tests.append({
            "name": test_title(t.grade_id),
            "number": str(i),
            "tags": [t.grade_id],
            "score": t.points,
            "max_score": t.max_points,
            "status": "passed" if t.passed else "failed",
            "output": output,
            "visibility": "visible",
        })
    out = [f"Score: {result.score:g} / {spec.max_score:g}"]
    if result.flags:
        out.append("Flags: " + ", ".join(result.flags))
    if result.problem:
        out.append(result.problem)
    return {"score": result.score, "output": "\n".join(out), "tests": tests,
            "visibility": "visible", "stdout_visibility": "hidden"}


def write_gradescope(result, spec, out_dir):
    path = out_dir / "gradescope" / result.student_id / "results.json"
    atomic_write(path, json.dumps(results_json(result, spec), indent=2))

"""A StudentResult as PrairieLearn's results.json, and the check of that contract.

The contract, as PrairieLearn uses it (PrairieLearn/PrairieLearn, read 2026-12-05):
- docs/externalGrading.md, "Grading results": `score` in [0, 1]; `gradable: false`
  (then no score) for a submission that cannot be graded, which costs the
  student no attempt, with `format_errors` (a string or a list of strings);
  optional `message`, `output`, `tests[]` of `name`, `description`, `points`,
  `max_points`, `message`, `output`. The per-test points are shown only when
  every test has both `points` and `max_points`.
- apps/grader-host/src/index.ts: results.json over 1 MiB (1024 * 1024 bytes)
  is refused ("The grading results were larger than 1MB"); the file is read
  only when the entrypoint exits 0.
- apps/prairielearn/src/lib/externalGrader.ts (processGradingResult): a score
  outside [0, 1] or not a finite number makes the submission not gradable.
- elements/pl-external-grader-results: `message` and `output` go through
  ansi2html (HTML-escaped, ANSI colour codes turned into markup) and are shown
  as markup; `name` and `description` are escaped.

What is shown, and when, is `reports.visibility.plan`'s (the policy gradescope.toml
sets for Gradescope too). PrairieLearn shows a result as soon as it is graded and has
no "after the due date", so an item whose visibility is VISIBLE (the checks of the
student's notebook, a test cell marked "visible") is its own test entry, and every
later item (hidden tests at "after_due_date", "after_published" or "hidden", and the
problems met while code ran on them) only counts in one total entry, "Tests on hidden
inputs". PrairieLearn shows the score of every submission, so that total is no secret;
nothing else of a later item (its verdict, message, hint or flags) is shown.

Guarantees of `results_json`, whatever the result:
- the document passes `problems` (valid, under MAX_BYTES, every text bounded,
  no control character but newline and tab, so no ANSI code restyles the page);
- an unreadable or missing notebook is `gradable: false` with one line saying
  what is wrong and what to do, so the attempt is not used up;
- a failure of the grader itself is `gradable: false` and says so: never a
  student's zero.
"""
import json
import math

from autograder.model import UNREADABLE, Visibility
from autograder.report.visibility import Part

MAX_BYTES = 1024 * 1024          # apps/grader-host/src/index.ts refuses larger files
MAX_TEST_TEXT = 4000
MAX_MESSAGE = 8000
HIDDEN_TOTAL = "Tests on hidden inputs"
STAFF = "please tell the course staff"

TOP = {"gradable": bool, "score": (int, float), "message": str, "output": str,
       "tests": list, "format_errors": (str, list), "images": list}
TEST = {"name": str, "description": str, "points": (int, float), "max_points": (int, float),
        "message": str, "output": str, "images": list}


def clean(text, limit):
    """`text` as plain text PrairieLearn can show: no control character but newline
    and tab (an ESC would start an ANSI code), valid UTF-8, at most `limit` characters."""
    text = str(text).encode("utf-8", "replace").decode("utf-8")
    text = "".join(c if c in "\n\t" or c.isprintable() else "\ufffd" for c in text)
    return text if len(text) <= limit else text[: limit - 40] + "\n[... cut: too long]"


def _points(x):
    return f"{x:g}"


def _entry(item):
    return {"name": clean(item.title, 200),
            "description": clean(f"{item.grade_id} ({item.part.value})" if item.grade_id
                                 else item.part.value, 200),
            "points": item.score, "max_points": item.max_score,
            "message": clean(item.text, MAX_TEST_TEXT)}


def not_gradable(reason):
    """results.json for a submission that cannot be graded: no attempt used."""
    line = clean(f"Not graded: {reason}. Upload the notebook again (File > Save, then "
                 "submit the .ipynb file); this submission did not use up an attempt.", 1000)
    return {"gradable": False, "format_errors": [line], "message": line, "tests": []}


def grader_failure(reason):
    """results.json when the grader itself failed: not gradable, and it says so."""
    line = clean(f"Not graded: the autograder failed ({reason}); {STAFF}. This is not "
                 "your mistake and did not use up an attempt.", 1000)
    return {"gradable": False, "format_errors": [line], "message": line, "tests": []}


def results_json(result, plan):
    """The results.json document for `result`, shown as `plan` (visibility.plan) says."""
    # A check that failed inside the grader is not the student's result: no attempt
    # used, whichever test it was (none is named).
    if result.internal_error:
        return grader_failure("an internal error while grading")
    if set(result.flags) & UNREADABLE:
        return not_gradable(result.problem or "no notebook was found in the submission")
    now = [i for i in plan.items if i.visibility is Visibility.VISIBLE]
    later = [i for i in plan.items if i.visibility is not Visibility.VISIBLE]
    out_of = round(sum(i.max_score for i in plan.items), 6)
    tests = [_entry(i) for i in now]
    lines = [f"Score: {_points(plan.score)} / {_points(out_of)} points."]
    checks = [i for i in now if i.part is Part.NOTEBOOK]
    if checks:
        lines.append(f"Checks in your notebook: {sum(i.passed for i in checks)} of "
                     f"{len(checks)} test cells pass.")
    if later:
        got = round(sum(i.score for i in later), 6)
        top = round(sum(i.max_score for i in later), 6)
        cells = sum(i.part is Part.HIDDEN for i in later)
        tests.append({
            "name": HIDDEN_TOTAL,
            "description": f"{cells} test cells' tests on inputs you do not see; only "
                           "their total is shown",
            "points": got, "max_points": top,
            "message": f"{cells} test cells' hidden tests: {_points(got)} / {_points(top)} "
                       "points. They are not shown one by one; the checks in your notebook "
                       "say what to fix."})
        lines.append(f"Tests on hidden inputs: {_points(got)} / {_points(top)} points "
                     "(a total only).")
    lines += plan.facts
    score = plan.score / out_of if out_of > 0 else 0.0
    return {"gradable": True, "score": round(min(1.0, max(0.0, score)), 6),
            "message": clean("\n".join(lines), MAX_MESSAGE), "tests": tests}


def _strings(value, where):
    """Problems of every string inside `value`: control characters PrairieLearn would show."""
    if isinstance(value, str):
        bad = [c for c in value if not (c in "\n\t" or c.isprintable() or c == " ")]
        return [f"{where}: control character {bad[0]!r}"] if bad else []
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _strings(v, f"{where}[{i}]")]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _strings(v, f"{where}.{k}")]
    return []


def _fields(obj, allowed, where):
    out = []
    for key, value in obj.items():
        if key not in allowed:
            out.append(f"{where}: unknown field {key!r}")
        elif isinstance(value, bool) and allowed[key] is not bool:
            out.append(f"{where}.{key}: a boolean, expected {allowed[key]}")
        elif not isinstance(value, allowed[key]):
            out.append(f"{where}.{key}: {type(value).__name__}, expected {allowed[key]}")
        elif isinstance(value, float) and not math.isfinite(value):
            out.append(f"{where}.{key}: {value} is not a finite number")
    return out


def problems(doc):
    """What keeps `doc` from being a results.json PrairieLearn grades and shows in full
    (an empty list when nothing)."""
    if not isinstance(doc, dict):
        return ["results.json must hold a JSON object"]
    try:
        size = len(json.dumps(doc, allow_nan=False).encode("utf-8"))
    except (TypeError, ValueError) as e:
        return [f"results.json is not plain JSON: {e}"]
    out = [f"results.json is {size} bytes; PrairieLearn refuses more than {MAX_BYTES}"] \
        if size > MAX_BYTES else []
    out += _fields(doc, TOP, "results") + _strings(doc, "results")
    if not isinstance(doc.get("gradable"), bool):
        out.append("results.gradable: missing (this grader always says)")
    elif doc["gradable"]:
        score = doc.get("score")
        if not isinstance(score, (int, float)) or isinstance(score, bool) or \
                not 0 <= score <= 1:
            out.append(f"results.score: {score!r}, expected a number in [0, 1]")
    else:
        errors = doc.get("format_errors")
        if not errors or (isinstance(errors, list) and not all(
                isinstance(e, str) and e for e in errors)):
            out.append("results.format_errors: a not-gradable result must say why")
    tests = doc.get("tests", [])
    if not isinstance(tests, list):
        return out
    for i, t in enumerate(tests):
        if not isinstance(t, dict):
            out.append(f"tests[{i}]: not an object")
            continue
        out += _fields(t, TEST, f"tests[{i}]")
        if not {"name", "points", "max_points"} <= set(t):
            out.append(f"tests[{i}]: name, points and max_points are all needed "
                       "(without them PrairieLearn hides every test's points)")
        elif _num(t["points"]) and _num(t["max_points"]) and \
                not 0 <= t["points"] <= t["max_points"]:
            out.append(f"tests[{i}]: points {t['points']} outside [0, {t['max_points']}]")
    if doc.get("gradable") and tests and all(isinstance(t, dict) for t in tests) and \
            all(_num(t.get("points")) and _num(t.get("max_points")) for t in tests):
        top = sum(t["max_points"] for t in tests)
        if top > 0 and _num(doc.get("score")) and \
                abs(sum(t["points"] for t in tests) / top - doc["score"]) > 1e-6:
            out.append("results.score does not match the tests' points")
    return out


def _num(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)

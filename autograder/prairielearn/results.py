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

Guarantees of `results_json`, whatever the result:
- the document passes `problems` (valid, under MAX_BYTES, every text bounded,
  no control character but newline and tab, so no ANSI code restyles the page);
- an unreadable or missing notebook is `gradable: false` with one line saying
  what is wrong and what to do, so the attempt is not used up;
- a failure of the grader itself is `gradable: false` and says so: never a
  student's zero;
- a test not in `shown` contributes only to one total entry ("Tests on hidden
  inputs": their count and points), never its own message, hint or verdict.
"""
import json
import math

from ..nbgrader_course import UNREADABLE
from ..reports.feedback import FLAG_TEXT, test_title
from ..results import INTERNAL

MAX_BYTES = 1024 * 1024          # apps/grader-host/src/index.ts refuses larger files
MAX_TEST_TEXT = 4000
MAX_MESSAGE = 8000
# Flags that come from running the code, perhaps on hidden inputs.
RUN_FLAGS = ("timeout", "memory", "crash")
HIDDEN_TOTAL = "Tests on hidden inputs"
RUN_PROBLEMS = "Problems while running your code"
STAFF = "please tell the course staff"

TOP = {"gradable": bool, "score": (int, float), "message": str, "output": str,
       "tests": list, "format_errors": (str, list), "images": list}
TEST = {"name": str, "description": str, "points": (int, float), "max_points": (int, float),
        "message": str, "output": str, "images": list}


def clean(text, limit):
    """`text` as plain text PrairieLearn can show: no control character but newline
    and tab (an ESC would start an ANSI code), valid UTF-8, at most `limit` characters."""
    text = str(text).encode("utf-8", "replace").decode("utf-8")
    text = "".join(c if c in "\n\t" or (c.isprintable() or c == " ") else "\ufffd"
                   for c in text)
    return text if len(text) <= limit else text[: limit - 40] + "\n[... cut: too long]"


def shown_at_once(visibility):
    """The grade_ids PrairieLearn shows one by one, from gradescope.toml's choices.

    `visibility` maps grade_id -> Gradescope visibility (gradescope.config.
    test_visibilities). PrairieLearn shows a result as soon as it is graded and
    has no "after the due date", so only "visible" tests are shown one by one;
    every later visibility folds the test into the hidden total.
    """
    return frozenset(gid for gid, vis in visibility.items() if vis == "visible")


def _points(x):
    return f"{x:g}"


def _entry(t):
    out = {"name": clean(test_title(t.grade_id), 200),
           "description": clean(t.grade_id, 200),
           "points": t.points, "max_points": t.max_points,
           "message": clean(t.message or ("passed" if t.passed else "failed"), MAX_TEST_TEXT)}
    if t.hint:
        out["output"] = clean(f"Hint: {t.hint}", MAX_TEST_TEXT)
    return out


def not_gradable(reason):
    """results.json for a submission that cannot be graded: no attempt used."""
    line = clean(f"Not graded: {reason}. Upload the notebook again (File > Save, then "
                 "submit softmax.ipynb); this submission did not use up an attempt.", 1000)
    return {"gradable": False, "format_errors": [line], "message": line, "tests": []}


def grader_failure(reason):
    """results.json when the grader itself failed: not gradable, and it says so."""
    line = clean(f"Not graded: the autograder failed ({reason}); {STAFF}. This is not "
                 "your mistake and did not use up an attempt.", 1000)
    return {"gradable": False, "format_errors": [line], "message": line, "tests": []}


def results_json(result, spec, *, shown):
    """The results.json document for `result`; `shown`: grade_ids shown one by one."""
    if result.problem and INTERNAL.search(result.problem):
        return grader_failure("an internal error while grading")
    if set(result.flags) & UNREADABLE:
        return not_gradable(result.problem or "no notebook was found in the submission")
    now = [t for t in result.tests if t.grade_id in shown]
    later = [t for t in result.tests if t.grade_id not in shown]
    tests = [_entry(t) for t in now]
    score_line = (f"Score: {_points(result.score)} / {_points(result.max_score)} points.")
    lines = [score_line]
    if later:
        got = round(sum(t.points for t in later), 6)
        out_of = round(sum(t.max_points for t in later), 6)
        tests.append({
            "name": HIDDEN_TOTAL,
            "description": f"{len(later)} tests on inputs you do not see; only their total "
                           "is shown",
            "points": got, "max_points": out_of,
            "message": f"{len(later)} tests on hidden inputs: {_points(got)} / "
                       f"{_points(out_of)} points. Their results are not shown one by one; "
                       "the checks in your notebook" + (" and the tests above" if now else "")
                       + " say what to fix."})
        if now:
            lines.append(f"Tests shown one by one: {_points(sum(t.points for t in now))} / "
                         f"{_points(sum(t.max_points for t in now))} points.")
        lines.append(f"Tests on hidden inputs: {_points(got)} / {_points(out_of)} points "
                     "(a total only).")
    lines += [FLAG_TEXT.get(f, f) for f in result.flags if f not in RUN_FLAGS]
    run_flags = [f for f in result.flags if f in RUN_FLAGS]
    if run_flags:
        tests.append({"name": RUN_PROBLEMS, "description": "no points of their own",
                      "points": 0, "max_points": 0,
                      "message": "\n".join(FLAG_TEXT[f] for f in run_flags)})
    score = result.score / result.max_score if result.max_score > 0 else 0.0
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

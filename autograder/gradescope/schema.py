"""The fields and types of Gradescope's results.json, as its specification lists them.

`problems(doc)` returns what is wrong with a document (empty when it is
valid). `run` checks its own output with it before writing, and the tests
check every results.json they see.
"""
import math

from autograder.model import Visibility

FORMATS = ("text", "html", "simple_format", "md", "ansi")
STATUSES = ("passed", "failed")

NUMBER = (int, float)
TOP = {"score": NUMBER, "execution_time": int, "output": str, "output_format": str,
       "test_output_format": str, "test_name_format": str, "visibility": str,
       "stdout_visibility": str, "extra_data": dict, "tests": list, "leaderboard": list}
TEST = {"score": NUMBER, "max_score": NUMBER, "status": str, "name": str, "name_format": str,
        "number": str, "output": str, "output_format": str, "tags": list, "visibility": str,
        "extra_data": dict}
ENUMS = {"visibility": tuple(Visibility), "stdout_visibility": tuple(Visibility), "status": STATUSES,
         "output_format": FORMATS, "test_output_format": FORMATS, "name_format": FORMATS,
         "test_name_format": FORMATS}


def _fields(obj, allowed, where):
    out = []
    for key, value in obj.items():
        if key not in allowed:
            out.append(f"{where}: unknown field {key!r}")
            continue
        kind = allowed[key]
        if isinstance(value, bool) or not isinstance(value, kind):
            out.append(f"{where}.{key}: {type(value).__name__}, expected "
                       f"{getattr(kind, '__name__', 'number')}")
        elif isinstance(value, float) and not math.isfinite(value):
            out.append(f"{where}.{key}: {value} is not a finite number")
        elif key in ENUMS and value not in ENUMS[key]:
            out.append(f"{where}.{key}: {value!r} is not one of {', '.join(ENUMS[key])}")
    return out


def problems(doc):
    """What keeps `doc` from being a valid results.json (an empty list when nothing)."""
    if not isinstance(doc, dict):
        return ["results.json must hold a JSON object"]
    out = _fields(doc, TOP, "results")
    tests = doc.get("tests", [])
    if not isinstance(tests, list):
        return out
    if "score" not in doc and not all(isinstance(t, dict) and "score" in t for t in tests):
        out.append("results: no top-level score and a test without one")
    for i, t in enumerate(tests):
        if not isinstance(t, dict):
            out.append(f"tests[{i}]: not an object")
            continue
        out += _fields(t, TEST, f"tests[{i}]")
        if "tags" in t and isinstance(t["tags"], list) and not all(
                isinstance(x, str) for x in t["tags"]):
            out.append(f"tests[{i}].tags: every tag must be a string")
    return out

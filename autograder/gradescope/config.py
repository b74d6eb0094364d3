"""The instructor's Gradescope settings: `gradescope.toml` at the repository root.

It is the one place that says what students see of each test, and when, and
how many submissions are graded. `load` validates it and fails with one line
naming the bad key; a missing file means the defaults below. The build copies
the file into autograder.zip, so a change needs a rebuild and an upload.
"""
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

FILENAME = "gradescope.toml"

# Gradescope's visibility values, from most to least shown.
VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")


class ConfigError(Exception):
    """gradescope.toml is unreadable or has a bad value: one line, the key and the fix."""


@dataclass(frozen=True)
class GradescopeConfig:
    # A test cell whose asserts are all in the student's notebook.
    visible_checks: str = "visible"
    # A test cell with hidden tests: its result, message and hint are shown late,
    # so that resubmitting does not map the hidden tests.
    hidden_checks: str = "after_due_date"
    tests: dict = field(default_factory=dict)    # grade_id -> visibility (overrides)
    max_graded: int = 0                          # graded submissions per student; 0: no cap

    def visibility(self, grade_id, has_hidden_tests):
        if grade_id in self.tests:
            return self.tests[grade_id]
        return self.hidden_checks if has_hidden_tests else self.visible_checks


def _visibility(value, key):
    if value not in VISIBILITIES:
        raise ConfigError(f"{FILENAME}: {key} = {value!r}; expected one of "
                          f"{', '.join(VISIBILITIES)}")
    return value


def parse(data, known_tests=None):
    """GradescopeConfig from the parsed TOML; `known_tests` (grade_ids) catches typos."""
    unknown = set(data) - {"visibility", "submissions"}
    if unknown:
        raise ConfigError(f"{FILENAME}: unknown section {sorted(unknown)[0]!r}; "
                          "expected [visibility] and [submissions]")
    vis = data.get("visibility", {})
    sub = data.get("submissions", {})
    if not isinstance(vis, dict) or not isinstance(sub, dict):
        raise ConfigError(f"{FILENAME}: [visibility] and [submissions] must be tables")
    bad = (set(vis) - {"visible_checks", "hidden_checks", "tests"}) | \
        {f"submissions.{k}" for k in set(sub) - {"max_graded"}}
    if bad:
        raise ConfigError(f"{FILENAME}: unknown key {sorted(bad)[0]!r}")
    tests = vis.get("tests", {})
    if not isinstance(tests, dict):
        raise ConfigError(f"{FILENAME}: [visibility.tests] must map test cell ids to visibilities")
    for gid, value in tests.items():
        _visibility(value, f"visibility.tests.{gid}")
        if known_tests is not None and gid not in known_tests:
            raise ConfigError(f"{FILENAME}: visibility.tests names {gid!r}, which is not a "
                              f"graded test cell; known: {', '.join(known_tests)}")
    cap = sub.get("max_graded", 0)
    if isinstance(cap, bool) or not isinstance(cap, int) or cap < 0:
        raise ConfigError(f"{FILENAME}: submissions.max_graded = {cap!r}; expected a whole "
                          "number >= 0 (0: no cap)")
    defaults = GradescopeConfig()
    return GradescopeConfig(
        visible_checks=_visibility(vis.get("visible_checks", defaults.visible_checks),
                                   "visibility.visible_checks"),
        hidden_checks=_visibility(vis.get("hidden_checks", defaults.hidden_checks),
                                  "visibility.hidden_checks"),
        tests=dict(tests), max_graded=cap)


def load(path, known_tests=None):
    """The config at `path`, or the defaults when there is no such file."""
    path = Path(path)
    if not path.exists():
        return GradescopeConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{path}: {e}") from None
    return parse(data, known_tests)


HIDDEN_MARK = "BEGIN HIDDEN TESTS"


def hidden_test_cells(source_notebook):
    """grade_ids of the test cells that hold an nbgrader hidden-test block."""
    import json

    from .. import cells
    with open(source_notebook, encoding="utf-8") as f:
        nb = json.load(f)
    return {cells.grade_id(c) for c in nb["cells"]
            if cells.is_grade(c) and HIDDEN_MARK in cells.source(c)}


def test_visibilities(config, spec, hidden):
    """{grade_id: visibility} for every test of `spec`."""
    return {t.grade_id: config.visibility(t.grade_id, t.grade_id in hidden) for t in spec.tests}

"""The instructor's Gradescope settings: `gradescope.toml` at the repository root.

It is the one place that says what students see of each test, and when, and
how many submissions are graded. `load` validates it and fails with one line
naming the bad key; a missing file means the defaults below. The build copies
the file into autograder.zip, so a change needs a rebuild and an upload.
"""
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from autograder.model import Visibility
from autograder.report.visibility import Policy

FILENAME = "gradescope.toml"


class ConfigError(Exception):
    """gradescope.toml is unreadable or has a bad value: one line, the key and the fix."""


@dataclass(frozen=True)
class GradescopeConfig:
    # A test cell whose asserts are all in the student's notebook.
    visible_checks: Visibility = Visibility.VISIBLE
    # A test cell's hidden tests: result, message and hint are shown late, so that
    # resubmitting does not map the hidden tests.
    hidden_checks: Visibility = Visibility.AFTER_DUE_DATE
    # Each test cell run as released after the student's code, in a jail that never
    # gets a hidden input: what the check cell and Validate show.
    notebook_checks: Visibility = Visibility.VISIBLE
    notebook_share: float = 0.0                  # of each test cell's points (0 to 1)
    tests: dict = field(default_factory=dict)    # grade_id -> visibility (overrides)
    max_graded: int = 0                          # graded submissions per student; 0: no cap

    def visibility(self, grade_id, has_hidden_tests):
        return self.policy().of_test(grade_id, has_hidden_tests).value

    def policy(self):
        """The visibility Policy these settings make (see reports/visibility.py)."""
        return Policy(hidden_tests=Visibility(self.hidden_checks),
                      visible_tests=Visibility(self.visible_checks),
                      notebook_checks=Visibility(self.notebook_checks),
                      notebook_share=self.notebook_share,
                      tests={k: Visibility(v) for k, v in self.tests.items()})


def _visibility(value, key):
    if value not in tuple(Visibility):
        raise ConfigError(f"{FILENAME}: {key} = {value!r}; expected one of "
                          f"{', '.join(Visibility)}")
    return Visibility(value)


def _share(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ConfigError(f"{FILENAME}: points.notebook_checks = {value!r}; expected a number "
                          "from 0 (the notebook's checks earn nothing) to 1")
    return float(value)


SECTIONS = {"visibility": {"visible_checks", "hidden_checks", "notebook_checks", "tests"},
            "points": {"notebook_checks"},
            "submissions": {"max_graded"}}


def parse(data, known_tests=None):
    """GradescopeConfig from the parsed TOML; `known_tests` (grade_ids) catches typos."""
    unknown = set(data) - set(SECTIONS)
    if unknown:
        raise ConfigError(f"{FILENAME}: unknown section {sorted(unknown)[0]!r}; "
                          "expected [visibility], [points] and [submissions]")
    tables = {name: data.get(name, {}) for name in SECTIONS}
    if not all(isinstance(t, dict) for t in tables.values()):
        raise ConfigError(f"{FILENAME}: [visibility], [points] and [submissions] must be tables")
    bad = {f"{name}.{k}" if name != "visibility" else k
           for name, table in tables.items() for k in set(table) - SECTIONS[name]}
    if bad:
        raise ConfigError(f"{FILENAME}: unknown key {sorted(bad)[0]!r}")
    vis, sub = tables["visibility"], tables["submissions"]
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
    d = GradescopeConfig()
    return GradescopeConfig(
        visible_checks=_visibility(vis.get("visible_checks", d.visible_checks),
                                   "visibility.visible_checks"),
        hidden_checks=_visibility(vis.get("hidden_checks", d.hidden_checks),
                                  "visibility.hidden_checks"),
        notebook_checks=_visibility(vis.get("notebook_checks", d.notebook_checks),
                                    "visibility.notebook_checks"),
        notebook_share=_share(tables["points"].get("notebook_checks", d.notebook_share)),
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

    from autograder.submissions import nbcells as cells
    with open(source_notebook, encoding="utf-8") as f:
        nb = json.load(f)
    return {cells.grade_id(c) for c in nb["cells"]
            if cells.is_grade(c) and HIDDEN_MARK in cells.source(c)}

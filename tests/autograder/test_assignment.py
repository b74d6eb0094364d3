"""Finding assignment packages, and reading what they grade."""
import dataclasses
import json
import os
import subprocess
import sys

import pytest

from autograder import assignment
from autograder.assignment import AssignmentError, get, load_spec
from autograder.check.registry import Registry

from ..conftest_paths import ASSIGNMENTS, REPO, TINY


def test_softmax_is_found_without_configuration(monkeypatch):
    monkeypatch.delenv(assignment.ENV_PATH, raising=False)
    a = get()
    assert a.name == "softmax"
    spec = load_spec(a)
    assert [t.grade_id for t in spec.tests] == a.checks.ids()
    assert spec.max_score == 20


def test_the_entry_points_are_scanned_once_for_a_state_of_the_installed_folders(
        monkeypatch, tmp_path):
    """The scan of the installed distributions is kept for a state of sys.path's folders;
    a folder whose modification time changes (a distribution installed in it or
    removed) means a new scan."""
    scans = []
    real = assignment._scan_entry_points

    def counted():
        scans.append(1)
        return real()
    monkeypatch.setattr(assignment, "_scan_entry_points", counted)
    monkeypatch.syspath_prepend(str(tmp_path))
    os.utime(tmp_path, ns=(1, 1))
    first = assignment._kept_entry_points()
    assert assignment._kept_entry_points() == first and len(scans) <= 1
    assert ("softmax", "autograder.assignments.softmax") in first
    (tmp_path / "new-1.0.dist-info").mkdir()
    before = len(scans)
    assert assignment._kept_entry_points() == first and len(scans) == before + 1


def test_a_kept_entry_point_that_no_longer_loads_means_a_fresh_scan(monkeypatch):
    monkeypatch.setattr(assignment, "_kept_entry_points",
                        lambda: (("softmax", "autograder.no_such_module"),))
    assert [a.name for a in assignment._entry_points()] == ["softmax"]


def test_a_second_run_finds_the_assignments_without_scanning_the_distributions():
    code = ("import sys\n"
            "from autograder import assignment\n"
            "print(sorted(assignment.available()), 'importlib.metadata' in sys.modules)\n")
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           cwd=REPO, check=True).stdout.strip() for _ in range(2)]
    assert runs[1] == "['softmax'] False"


def test_folders_in_the_environment_add_assignments(monkeypatch):
    monkeypatch.setenv(assignment.ENV_PATH, str(ASSIGNMENTS))
    assert {"softmax", "tiny"} <= set(assignment.available())
    tiny = get("tiny")
    spec = load_spec(tiny)
    assert spec.solution_ids == ("double",)
    assert [(t.grade_id, t.points) for t in spec.tests] == [("test_double", 3.0)]
    with pytest.raises(AssignmentError, match="--assignment"):
        get()


def test_the_shipped_assignments_load_from_their_folder_as_on_gradescope(monkeypatch):
    """The Gradescope zip and the PrairieLearn job run the grader uninstalled: no entry
    point is there, and the shipped folder in AUTOGRADER_ASSIGNMENTS finds the package."""
    monkeypatch.setattr(assignment, "_entry_points", lambda: iter(()))
    monkeypatch.setenv(assignment.ENV_PATH, str(REPO / "autograder" / "assignments"))
    assignment._available.cache_clear()
    try:
        a = get()
        assert a.name == "softmax"
        assert [t.grade_id for t in load_spec(a).tests] == a.checks.ids() != []
    finally:
        assignment._available.cache_clear()


def test_no_assignment_at_all_says_how_to_get_one(monkeypatch):
    monkeypatch.setattr(assignment, "_entry_points", lambda: iter(()))
    monkeypatch.delenv(assignment.ENV_PATH, raising=False)
    assignment._available.cache_clear()
    try:
        with pytest.raises(AssignmentError, match="install the grader"):
            get()
    finally:
        assignment._available.cache_clear()


def test_an_unknown_name_lists_the_known_ones(monkeypatch):
    monkeypatch.delenv(assignment.ENV_PATH, raising=False)
    with pytest.raises(AssignmentError, match="softmax"):
        get("svm")


def test_a_test_cell_without_a_check_is_refused(monkeypatch):
    monkeypatch.setenv(assignment.ENV_PATH, str(ASSIGNMENTS))
    tiny = dataclasses.replace(get("tiny"), checks=Registry())
    with pytest.raises(AssignmentError, match="test_double has no check"):
        load_spec(tiny)


def test_a_check_without_a_test_cell_is_refused(monkeypatch):
    monkeypatch.setenv(assignment.ENV_PATH, str(ASSIGNMENTS))
    tiny = get("tiny")
    reg = Registry()
    for c in tiny.checks:
        reg.check(c.test_id, target=c.target)(c.run)
    reg.check("test_triple", target="double")(_doc)
    with pytest.raises(AssignmentError, match="test_triple"):
        load_spec(dataclasses.replace(tiny, checks=reg))


def _doc():
    """unused"""


def test_every_released_version_of_a_test_cell_is_accepted(monkeypatch, tmp_path):
    monkeypatch.setenv(assignment.ENV_PATH, str(ASSIGNMENTS))
    tiny = get("tiny")
    history = tmp_path / "released.json"
    history.write_text(json.dumps({"test_double": ["0" * 32, "1" * 32]}))
    spec = load_spec(dataclasses.replace(tiny, released_checksums=history))
    current = load_spec(tiny).tests[0].checksums
    assert spec.tests[0].checksums == current + ("0" * 32, "1" * 32)


def test_a_check_needs_a_docstring_saying_what_it_proves():
    reg = Registry()
    with pytest.raises(ValueError, match="docstring"):
        reg.check("test_x", target="x")(lambda student: None)
    with pytest.raises(ValueError, match="twice"):
        reg.check("test_y", target="y")(_doc)
        reg.check("test_y", target="y")(_doc)


def test_the_tiny_package_lives_outside_the_core():
    assert TINY.is_dir() and not (TINY / "__init__.py").read_text().count("autograder.assignments")


def test_every_core_mistake_has_a_hint_in_each_assignments_catalogue(monkeypatch):
    """The core's default hints fill what an assignment leaves out (the tiny assignment
    names two mistakes of its own); its own text wins where it gives one."""
    from autograder.check.registry import CORE_HINTS, catalogue
    from autograder.model import CoreMistake
    monkeypatch.setenv(assignment.ENV_PATH, str(ASSIGNMENTS))
    assert set(CORE_HINTS) == set(CoreMistake) and all(CORE_HINTS.values())
    for name in ("softmax", "tiny"):
        a = get(name)
        load_spec(a)
        hints = catalogue(a.hints)
        assert all(hints.get(m) for m in CoreMistake), name
        assert all(hints[k] == v for k, v in a.hints.items())
    assert catalogue(get("tiny").hints)[CoreMistake.SHAPE] == CORE_HINTS[CoreMistake.SHAPE]


def test_a_core_mistake_left_without_a_hint_is_refused_in_one_line(monkeypatch):
    monkeypatch.setenv(assignment.ENV_PATH, str(ASSIGNMENTS))
    tiny = get("tiny")
    blank = dataclasses.replace(tiny, hints={**tiny.hints, "shape": ""})
    with pytest.raises(AssignmentError, match=r"^tiny: no hint for the core mistake\(s\) shape:"):
        load_spec(blank)


def test_each_test_cell_carries_the_target_and_title_its_check_declares(monkeypatch):
    monkeypatch.setenv(assignment.ENV_PATH, str(ASSIGNMENTS))
    for a in (get("softmax"), get("tiny")):
        for t in load_spec(a).tests:
            assert (t.target, t.title) == (a.checks[t.grade_id].target,
                                           a.checks[t.grade_id].title)
    reg = Registry()
    reg.check("test_double", target="double", title="Doubling")(_doc)
    tiny = dataclasses.replace(get("tiny"), checks=reg)
    assert load_spec(tiny).tests[0].title == "Doubling"

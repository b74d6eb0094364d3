"""What an assignment is to the core, and how the core finds them.

An assignment is a Python package that defines `ASSIGNMENT = Assignment(...)`:
its notebooks, its solution cells, its check registry, its hint table, the
reference its timed checks compare against, and its sample submissions. The
core (discovery, reading, sandbox, runner, results, reports) knows nothing
else about it, and imports none by name. Packages are found, in this order:

- the entry point group `autograder.assignments` of installed distributions
  (this project's pyproject.toml declares the ones shipped in
  `autograder/assignments/`);
- each folder listed in the environment variable AUTOGRADER_ASSIGNMENTS
  (os.pathsep-separated): every subfolder with an `__init__.py` is a package
  (how the Gradescope zip and the PrairieLearn job, which run the grader from
  its files rather than installed, find theirs).

The Spec (test cells, points, accepted checksums) is read from the notebooks
as plain JSON, so that a run pays for neither nbformat's validation nor
nbgrader's import.
"""
import functools
import importlib.util
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Optional

from autograder.check.registry import Registry, catalogue
from autograder.model import CoreMistake, Spec, TestCell
from autograder.submissions import nbcells as cells

ENV_PATH = "AUTOGRADER_ASSIGNMENTS"


class AssignmentError(Exception):
    """No such assignment, or one whose package and notebooks disagree."""


@dataclass(frozen=True)
class Assignment:
    name: str                       # the notebook is <name>.ipynb
    source: Path                    # nbgrader source notebook (solutions + hidden tests)
    release: Path                   # the released student notebook
    solution_ids: tuple             # grade_ids of the solution cells, in notebook order
    checks: Registry                # one check per graded test cell
    hints: Mapping = field(default_factory=dict)   # mistake name -> text for the student,
    #                                                merged over the core's (check/registry.py)
    timer_reference: Optional[Callable] = None     # what timed checks are compared against
    samples: Optional[Callable] = None             # samples(folder): demo submissions
    released_checksums: Optional[Path] = None      # JSON {test id: [checksum, ...]} of past releases
    package_dir: Optional[Path] = None             # grader-only files (hidden from the jail)
    # prepare(): what the checks make alike for every student (input plans), made ahead:
    # the pipeline calls it in a background thread as grading starts.
    prepare: Optional[Callable] = None

    def files(self):
        """Every file whose change must invalidate stored grades."""
        found = [self.source, self.release]
        if self.released_checksums and self.released_checksums.exists():
            found.append(self.released_checksums)
        if self.package_dir:
            found += sorted(self.package_dir.rglob("*.py"))
        return found


def _read_cells(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)["cells"]


def _history(path):
    if not path or not Path(path).exists():
        return {}
    with open(path, encoding="utf-8") as f:
        return {k: tuple(v) for k, v in json.load(f).items()}


def load_spec(assignment):
    """The Spec of `assignment`; fails loudly if its notebooks and checks disagree."""
    src, rel = _read_cells(assignment.source), _read_cells(assignment.release)
    released = {cells.grade_id(c): c for c in rel if cells.is_grade(c)}
    history = _history(assignment.released_checksums)
    tests = []
    for cell in src:
        if not (cells.is_grade(cell) and cell.get("cell_type") == "code"):
            continue
        gid = cells.grade_id(cell)
        if gid not in assignment.checks:
            raise AssignmentError(f"{assignment.name}: test cell {gid} has no check")
        if gid not in released:
            raise AssignmentError(f"{assignment.name}: test cell {gid} is missing from "
                                  f"{assignment.release}: regenerate the release")
        current = cells.checksum(released[gid])
        accepted = (current,) + tuple(c for c in history.get(gid, ()) if c != current)
        points = float(cell["metadata"]["nbgrader"]["points"])
        check = assignment.checks[gid]
        tests.append(TestCell(gid, points, accepted, target=check.target, title=check.title))
    solutions = tuple(cells.grade_id(c) for c in src if cells.is_solution(c))
    if solutions != tuple(assignment.solution_ids):
        raise AssignmentError(f"{assignment.name}: solution cells {solutions} differ from "
                              f"{tuple(assignment.solution_ids)}")
    unused = set(assignment.checks.ids()) - {t.grade_id for t in tests}
    if unused:
        raise AssignmentError(f"{assignment.name}: checks with no test cell: {sorted(unused)}")
    hints = catalogue(assignment.hints)
    unhinted = [m.value for m in CoreMistake if not hints.get(m)]
    if unhinted:
        raise AssignmentError(f"{assignment.name}: no hint for the core mistake(s) "
                              f"{', '.join(unhinted)}: give each a text in hints, or leave "
                              "it out to use the core's")
    return Spec(assignment.name, solutions, tuple(tests))


# ------------------------------------------------------------ discovery


def _from_module(module, where):
    a = getattr(module, "ASSIGNMENT", None)
    if not isinstance(a, Assignment):
        raise AssignmentError(f"{where} defines no ASSIGNMENT = Assignment(...)")
    return a


ENTRY_POINTS = "autograder.assignments"     # the group an assignment package registers in


def _entry_points():
    """The modules of the installed entry points of ENTRY_POINTS: as a scan of the
    installed distributions found them for this state of sys.path (`_kept_entry_points`),
    or, where a kept one no longer loads, as a fresh scan finds them."""
    import pkgutil
    try:
        loaded = [(name, pkgutil.resolve_name(value)) for name, value in _kept_entry_points()]
    except (ImportError, AttributeError, ValueError):
        loaded = [(ep.name, ep.load()) for ep in _scan_entry_points()]
    for name, module in loaded:
        yield _from_module(module, f"entry point {name}")


def _scan_entry_points():
    from importlib.metadata import entry_points
    return entry_points(group=ENTRY_POINTS)


def _kept_entry_points():
    """(name, value) of each entry point of ENTRY_POINTS. Scanning the installed
    distributions (importlib.metadata: ~25 ms of the grader's start, in the window where
    the first jail boots) is done once for a state of sys.path's folders and kept
    (record/ahead): installing or removing a distribution changes the modification time of
    the folder it is in, which is also what importlib.metadata's own lookup is keyed on."""
    from autograder.record import ahead

    def state():
        lines = []
        for entry in sys.path:
            try:
                lines.append(f"{entry}\0{os.stat(entry or '.').st_mtime_ns}")
            except OSError:
                lines.append(f"{entry}\0-")
        return "\n".join(lines)
    return ahead.kept(folder=Path(__file__).parent, name="entry-points", sources=(),
                      key=state(), make=lambda: tuple((ep.name, ep.value)
                                                      for ep in _scan_entry_points()),
                      valid=lambda kept: isinstance(kept, tuple) and all(
                          isinstance(p, tuple) and len(p) == 2
                          and all(isinstance(v, str) for v in p) for p in kept))


def _from_folders(value):
    for folder in filter(None, (value or "").split(os.pathsep)):
        for init in sorted(Path(folder).glob("*/__init__.py")):
            pkg = init.parent
            modname = f"_autograder_assignment_{pkg.name}"
            if modname not in sys.modules:
                spec = importlib.util.spec_from_file_location(
                    modname, init, submodule_search_locations=[str(pkg)])
                if spec is None or spec.loader is None:
                    raise AssignmentError(f"{pkg} cannot be imported as a package")
                module = importlib.util.module_from_spec(spec)
                sys.modules[modname] = module
                spec.loader.exec_module(module)
            yield _from_module(sys.modules[modname], str(pkg))


def available():
    """{name: Assignment} of every assignment package found."""
    return dict(_available(os.environ.get(ENV_PATH)))


@functools.lru_cache(maxsize=8)
def _available(folders):
    # Cached per value of AUTOGRADER_ASSIGNMENTS: the in-kernel path asks once per
    # test cell, and scanning installed distributions is not free.
    found: dict[str, Assignment] = {}
    for source in (_entry_points(), _from_folders(folders)):
        for a in source:
            found.setdefault(a.name, a)
    return tuple(found.items())


def get(name=None):
    """The assignment called `name`; with no name, the only one there is."""
    found = available()
    if not found:
        raise AssignmentError("no assignment found: install the grader (`make`, or "
                              f"`pip install -e .`) or name a folder in {ENV_PATH}")
    if name is None:
        if len(found) == 1:
            return next(iter(found.values()))
        raise AssignmentError(f"several assignments ({', '.join(sorted(found))}): "
                              "choose one with --assignment NAME")
    if name not in found:
        raise AssignmentError(f"no assignment called {name!r}; known: "
                              f"{', '.join(sorted(found))}")
    return found[name]


def owning(test_id):
    """The assignment whose registry has `test_id` (for the in-kernel path)."""
    for a in available().values():
        if test_id in a.checks:
            return a
    raise AssignmentError(f"no assignment has a check called {test_id!r}")

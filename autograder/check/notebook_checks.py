"""The checks in the student's own notebook, run by the grader: what each check cell and
nbgrader's Validate already tell the student, computed so that it can be shown at once.

Each graded test cell is run as released (the student's copy of it is never used),
after the student's code, in the student's namespace, in a jail of its own:

- that jail starts and ends before the jail of the hidden checks starts, and it is
  sent nothing but the release's own code (its test cells, the helper modules beside
  the release notebook, the imports of those helpers that the test cells use) and the
  student's cells. No hidden input and no hidden verdict exists while it runs, so
  nothing its results say can depend on one;
- a failed assert comes back whole, as the check cell shows it; anything else the
  cell raises comes back as one line, as for the hidden checks.

Guarantee: `run` returns one NotebookCheck per graded test cell, in notebook order,
and the flags this jail raised; the student's code cannot make it raise.
"""
import ast
import functools
import json
from dataclasses import dataclass
from pathlib import Path

from autograder.submissions import nbcells
from autograder.submissions import nbparse
from autograder.submissions.notebook import explain
from autograder.model import NotebookCheck
from autograder.sandbox import WorkerDied
from autograder.student.blame import Blame
from autograder.student.raised import raised_from_reply, raised_well_formed
from autograder.student.lifecycle import CellWorker

HELPERS = "release helpers"
IMPORTS = "release imports"

# Installs the release's helper modules as importable modules, loaded on first import
# (so plotting helpers a test cell never imports cost nothing). Trusted grader code,
# run before the student's cells. A finder and loader by protocol (find_spec,
# create_module, exec_module), with the spec importlib.util.spec_from_loader would make:
# importing importlib.abc and importlib.util in a fresh jail costs ~6 ms of every student.
_FINDER = '''
import importlib.machinery as _machinery, sys as _sys


class _ReleaseHelpers:
    sources = {sources!r}
    ModuleSpec = _machinery.ModuleSpec

    def find_spec(self, name, path=None, target=None):
        if name in self.sources:
            return self.ModuleSpec(name, self, is_package=False)
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        name = module.__name__
        module.__file__ = "<" + name + ".py>"
        exec(compile(self.sources[name], module.__file__, "exec"), module.__dict__)


_sys.meta_path.insert(0, _ReleaseHelpers())
del _machinery, _sys, _ReleaseHelpers
'''


@dataclass(frozen=True)
class Suite:
    """What the notebook-checks jail runs besides the student's cells."""
    helpers: str        # source: makes the release's helper modules importable
    imports: str        # source: the release's imports that the test cells use
    tests: tuple        # (grade_id, source) of every graded test cell, as released


def _used_names(sources):
    names = set()
    for src in sources:
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        names |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return names


def _imports_for(notebook_cells, used):
    """The top-level imports of the release's other code cells that bind a name in `used`."""
    lines = []
    for cell in notebook_cells:
        if cell.get("cell_type") != "code" or nbcells.is_grade(cell):
            continue
        try:
            # A %magic line is no statement here (the import cell has `%matplotlib`).
            tree = ast.parse(nbparse._definition_source(nbcells.source(cell)))
        except SyntaxError:
            continue
        for node in tree.body:
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            keep = [a for a in node.names
                    if (a.asname or a.name.split(".")[0]) in used and a.name != "*"]
            if keep:
                node.names = keep
                lines.append(ast.unparse(node))
    return "\n".join(lines) + "\n"


@functools.lru_cache(maxsize=8)
def helpers(release):
    """`Suite.helpers` of the release notebook at `release`, alone: the hidden checks' jail
    needs only this, which reads no cell (so no IPython transform, about 0.1 s)."""
    release = Path(release)
    sources = {p.stem: p.read_text(encoding="utf-8")
               for p in sorted(release.parent.glob("*.py")) if p.stem.isidentifier()}
    return _FINDER.format(sources=sources)


@functools.lru_cache(maxsize=8)
def suite(release):
    """The Suite of the release notebook at `release` (its helper modules beside it)."""
    release = Path(release)
    nb = json.loads(release.read_text(encoding="utf-8"))
    tests = tuple((nbcells.grade_id(c), nbparse.python_source(nbcells.source(c)))
                  for c in nb["cells"] if nbcells.is_grade(c))
    return Suite(helpers=helpers(release),
                 imports=_imports_for(nb["cells"], _used_names(s for _, s in tests)),
                 tests=tests)


def _message(reply, unavailable):
    if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool) or \
            not isinstance(reply.get("error") or "", str) or \
            not raised_well_formed(reply.get("raised")):
        return False, "the check cell was stopped by the grader: crash (a malformed reply)"
    if reply["ok"]:
        return True, ""
    return False, explain(reply.get("error") or "failed", raised_from_reply(reply.get("raised")),
                          unavailable).message


def run(code, the_suite, *, jail, started=None):
    """(NotebookChecks, flags) for StudentCode `code`: every test cell of `the_suite` run
    after the student's cells in a fresh jail (made as JailSettings `jail` says), which is
    closed before this returns (`started`: one started already and sent nothing yet,
    used and closed; see CellWorker)."""
    if code.problem:
        if started is not None:
            started.close()
        return [NotebookCheck(gid, False, f"not run: {code.problem}")
                for gid, _ in the_suite.tests], []
    blame = Blame()
    worker = CellWorker([(HELPERS, the_suite.helpers), *code.cells,
                         (IMPORTS, the_suite.imports)],
                        blame=blame, jail=jail, started=started)
    results = []
    try:
        for gid, source in the_suite.tests:
            try:
                reply = worker.request({"op": "check", "name": gid, "source": source},
                                       blame=gid)
                passed, message = _message(reply, code.unavailable)
                acts = list(dict.fromkeys(blame.acts(gid)))[:3]
                if acts:
                    passed, message = False, ("no points: while checked, this code tried "
                                              f"something not allowed ({'; '.join(acts)})")
            except WorkerDied as e:
                passed, message = False, (f"the check cell was stopped by the grader: "
                                          f"{e.reason} ({e.detail})")
            results.append(NotebookCheck(gid, passed, message))
    finally:
        worker.close()
    return results, sorted(blame.flags)

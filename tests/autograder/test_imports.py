"""The direction of imports inside the grader: the contracts in pyproject.toml hold.

`[tool.importlinter]` declares the layers (entry points over the pipeline over its
stages over the jail), that no two modules of one package import each other, and
that the core imports no assignment; `lint-imports` checks them. The graph counts
every import, also those inside functions, so a lazy import hides nothing.
"""
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]


def test_the_import_contracts_hold():
    r = subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports; "
         "sys.exit(lint_imports(no_cache=True, no_logo=True))"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]


def test_no_module_imports_itself_through_others():
    """A package's __init__ and its children count as modules of their own here, so
    this also finds a child importing the package that imports it (which the
    sibling contract does not see)."""
    graph = grimp.build_graph("autograder")
    loops = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back:
                loops.append(" -> ".join((importer, *back)))
    assert not loops, "import cycles:\n" + "\n".join(loops)

"""One student's code in a jailed worker, in three pieces with one job each.

- `lifecycle.CellWorker`: a worker holding the student's cells; restarted,
  without the cell that killed it, when a call hangs or crashes it.
- `blame.Blame`: which solution cell did what (suspicious acts) and the
  student's flags.
- `interface.SandboxStudent`: what the checks call (call, layer,
  cell_source, stash, timed), returning plain Outcomes.
"""
from .interface import SandboxStudent  # noqa: F401

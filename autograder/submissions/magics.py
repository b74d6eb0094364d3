"""A cell that starts with an IPython cell magic, read the way IPython reads it.

IPython turns `%%time` + body into `get_ipython().run_cell_magic('time', '', body)`;
what the body defines then depends on the magic. `%%time`, `%%capture` and `%%prun`
run the body as ordinary code in the notebook's namespace, so a function defined
under them exists after Restart & Run All and the grader must run that body.
`%%timeit` runs it inside a function of its own (nothing it defines is kept),
`%%writefile`, `%%bash`, `%%html` and the rest do not run it as Python: the grader
does not either. A test checks each of these against IPython itself.

The reading is IPython's own: its cleanup and cell-magic transforms
(`IPython.core.inputtransformer2`), whose generated call is read back with `ast`.
Those transforms are linear in the cell; the callers bound how deep magics nest.
"""
import ast
from dataclasses import dataclass
from typing import Callable, cast

# The cell magics whose body IPython runs in the notebook's own namespace.
BODY_IN_NAMESPACE = frozenset({"time", "capture", "prun"})


@dataclass(frozen=True)
class CellMagic:
    name: str           # "time" for `%%time`
    line: str           # the rest of the magic's line (its options)
    body: str           # the cell below that line, as IPython passes it to the magic
    offset: int         # lines of the cell above the body's first line

    @property
    def keeps_definitions(self):
        """True when what the body defines exists in the notebook after the cell runs."""
        return self.name in BODY_IN_NAMESPACE


def cell_magic(source):
    """The CellMagic when IPython reads `source` as one, else None."""
    if "%%" not in source:
        return None
    from IPython.core.inputtransformer2 import TransformerManager
    tm = TransformerManager()
    Transform = Callable[[list[str]], list[str]]
    lines = (source if source.endswith("\n") else source + "\n").splitlines(keepends=True)
    try:
        for transform in cast(list[Transform], tm.cleanup_transforms):
            lines = transform(lines)
        cleaned = len(lines)
        for transform in cast(list[Transform], tm.line_transforms):
            lines = transform(lines)
        call = ast.parse("".join(lines), mode="eval").body if len(lines) == 1 else None
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
            and call.func.attr == "run_cell_magic" and len(call.args) == 3
            and all(isinstance(a, ast.Constant) and isinstance(a.value, str)
                    for a in call.args)):
        return None
    name, line, body = (str(a.value) for a in call.args if isinstance(a, ast.Constant))
    above = len(source.splitlines()) - cleaned + 1     # blank lines IPython dropped, the magic
    return CellMagic(name, line, body, max(above, 1))

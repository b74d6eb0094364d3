"""The definitions a solution depends on, taken from the notebook's other cells.

The grader runs a submission's solution cells, not the whole notebook. So that
a notebook that passes Validate (Restart & Run All) does not lose points to
that, it also runs, before the solution cells and in notebook order, the
top-level statements of the other code cells (never a graded test cell)
that are DEFINITIONS, and only those a solution cell needs, directly or
through another definition:

- `import m`, `import m as n`, `from m import a, b as c`;
- `from m import *`, which binds names no one can list without importing `m`: every
  such import is run, in notebook order, when a solution needs a name that no other
  definition binds (importing runs no code of the student's);
- `def` / `async def` / `class` (with their decorators);
- a constant assigned to names: `EPS = 1e-7`, `A, B = 1, 2`, `TAU: float = 2 * np.pi`,
  `TINY = np.finfo(float).eps`, where a constant is built only from literals,
  names, attributes, indexing, arithmetic, comparisons, `and`/`or`/`not`,
  f-strings, tuples, lists, sets and dicts of those, and calls of numpy or math
  functions (`np.log(2)`, `math.sqrt(2)`, through any import of numpy or math) or
  of the builtins int, float, complex, bool, str, tuple, frozenset, range, abs,
  round, min, max and len (no other call, no comprehension or lambda).

Anything else (a call of anything else, a loop, a plot, training) is not run; a statement that
shares a line with one of those is not run either, nor one that rebinds a
solution's own name. When a solution needs a name that only such a statement
(or a test cell) binds, `unavailable[name]` says so in one line, for the
student's feedback next to the NameError.
"""
import ast
import builtins
import symtable

BUILTINS = frozenset(dir(builtins))
PROVIDED = frozenset({"np", "numpy", "get_ipython", "__name__"})   # the worker's namespace
MAX_PAD = 2000        # blank lines kept before a statement, for line numbers
RULE = ("the grader runs only the imports, functions, classes and constant assignments "
        "of other cells; define it in the exercise cell or as one of those")

_CONST_NODES = (ast.Constant, ast.Name, ast.Attribute, ast.UnaryOp, ast.BinOp, ast.BoolOp,
                ast.Compare, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.JoinedStr,
                ast.FormattedValue, ast.Subscript, ast.Slice, ast.Call, ast.keyword,
                ast.Load, ast.unaryop, ast.operator, ast.boolop, ast.cmpop)
CALLABLE_BUILTINS = frozenset({"int", "float", "complex", "bool", "str", "tuple", "frozenset",
                               "range", "abs", "round", "min", "max", "len"})
LIBRARIES = frozenset({"numpy", "math"})     # whose functions a constant may call
DEFAULT_MODULES = {"np": "numpy", "numpy": "numpy"}


def _root(func):
    """The name a call's chain starts from: np for np.linalg.norm, np.ones(3).sum."""
    while True:
        if isinstance(func, ast.Attribute):
            func = func.value
        elif isinstance(func, ast.Call):
            func = func.func
        elif isinstance(func, ast.Subscript):
            func = func.value
        else:
            return func.id if isinstance(func, ast.Name) else None


def is_constant(expr, modules=DEFAULT_MODULES):
    """True when evaluating `expr` calls nothing the student wrote (see the module doc).

    `modules` maps a name to the module it was imported from (`np` -> numpy)."""
    nodes = list(ast.walk(expr))
    for n in nodes:
        if not isinstance(n, _CONST_NODES):
            return False
        if isinstance(n, ast.Dict) and None in n.keys:
            return False      # {**other} calls keys()
        if isinstance(n, ast.Call):
            root = _root(n.func)
            ok = (root in CALLABLE_BUILTINS and isinstance(n.func, ast.Name)) or \
                modules.get(root, "").split(".")[0] in LIBRARIES
            if not ok or any(isinstance(a, ast.Starred) for a in n.args) or \
                    any(k.arg is None for k in n.keywords):
                return False
    return True


def imported_modules(trees):
    """{name: module} for every name a top-level import binds in these trees."""
    found = dict(DEFAULT_MODULES)
    for tree in trees:
        for stmt in tree.body:
            if isinstance(stmt, ast.Import):
                for a in stmt.names:
                    found[a.asname or a.name.split(".")[0]] = a.name if a.asname else \
                        a.name.split(".")[0]
            elif isinstance(stmt, ast.ImportFrom) and stmt.module and not stmt.level:
                for a in stmt.names:
                    found[a.asname or a.name] = stmt.module
    return found


def _target_names(target):
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        names = set()
        for elt in target.elts:
            sub = _target_names(elt)
            if sub is None:
                return None
            names |= sub
        return names
    return None


def binds(stmt):
    """Names a top-level statement binds (at module level), as far as syntax says."""
    found = set()

    def visit(node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
            return            # its body binds locals
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                if a.name != "*":
                    found.add(a.asname or a.name.split(".")[0])
            return
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp,
                             ast.GeneratorExp)):
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            found.add(node.id)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(stmt)
    return found


def uses(source):
    """The global names `source` reads: at top level, or inside its functions and classes
    (their parameters and locals excluded), as Python's own symbol table says."""
    try:
        top = symtable.symtable(source, "<cell>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    found, tables = set(), [top]
    while tables:
        t = tables.pop()
        for sym in t.get_symbols():
            if sym.is_referenced() and (t is top or sym.is_global()):
                found.add(sym.get_name())
        tables.extend(t.get_children())
    return found


def kept_names(stmt, modules=DEFAULT_MODULES):
    """Names bound by `stmt` if it is a definition the grader runs, else None."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    if isinstance(stmt, ast.Import):
        return {a.asname or a.name.split(".")[0] for a in stmt.names}
    if isinstance(stmt, ast.ImportFrom):
        if any(a.name == "*" for a in stmt.names):
            return None
        return {a.asname or a.name for a in stmt.names}
    if isinstance(stmt, ast.Assign) and is_constant(stmt.value, modules):
        names = set()
        for t in stmt.targets:
            sub = _target_names(t)
            if sub is None:
                return None
            names |= sub
        return names
    if isinstance(stmt, ast.AnnAssign) and stmt.simple and isinstance(stmt.target, ast.Name) \
            and stmt.value is not None and is_constant(stmt.value, modules):
        return {stmt.target.id}
    return None


def _is_star(stmt):
    return isinstance(stmt, ast.ImportFrom) and any(a.name == "*" for a in stmt.names)


def _first_line(stmt):
    return min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])


def _snippet(lines, stmt):
    text = lines[stmt.lineno - 1].strip() if stmt.lineno <= len(lines) else ""
    return text if len(text) <= 60 else text[:57] + "..."


def _span(stmt):
    return range(_first_line(stmt), (stmt.end_lineno or stmt.lineno) + 1)


class _Statement:
    __slots__ = ("cell", "node", "names", "kept", "lines", "_uses")

    def __init__(self, cell, node, names, kept, lines):
        self.cell, self.node, self.names, self.kept, self.lines = cell, node, names, kept, lines
        self._uses = None

    def uses(self):
        """Computed only for a statement a solution needs (symtable is not free)."""
        if self._uses is None:
            self._uses = uses("\n".join(self.lines[ln - 1] for ln in _span(self.node)) + "\n")
        return self._uses


def plan(candidates, solutions, *, test_cells=()):
    """(prelude, unavailable).

    candidates: [(label, source)] of the other code cells, in notebook order
      (source already plain Python, or not parseable: then it contributes nothing);
    solutions: [source] of the solution cells the grader runs;
    test_cells: [(label, source)] of graded test cells (never run; only to explain).
    prelude: [(label, source)] to run before the solution cells: each candidate
      cell that holds a needed definition, with every other line blanked so
      line numbers stay those of the notebook.
    unavailable: {name: one line} for each needed name the grader will not have.
    """
    sol_trees = []
    for src in solutions:
        try:
            sol_trees.append((src, ast.parse(src)))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue          # the worker reports the cell's own error
    have = set(PROVIDED)      # what the grader has without any definition
    needed = set()
    for src, tree in sol_trees:
        for stmt in tree.body:
            have |= binds(stmt)
        needed |= uses(src)

    statements: list[_Statement] = []
    by_name: dict[str, list[_Statement]] = {}
    broken: dict[str, str] = {}
    parsed = {}
    trees = []
    for label, src in candidates:
        try:
            tree = ast.parse(src)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
            broken[label] = type(e).__name__
            continue
        lines = src.splitlines()
        parsed[label] = (src, lines)
        trees.append((label, tree, lines))
    modules = imported_modules(t for _, t, _ in trees)
    line_owner_of: dict[str, dict[int, int]] = {}
    for label, tree, lines in trees:
        line_owner = line_owner_of[label] = {}
        for stmt in tree.body:
            for ln in _span(stmt):
                line_owner[ln] = line_owner.get(ln, 0) + 1
        for stmt in tree.body:
            names = kept_names(stmt, modules)
            shared = any(line_owner[ln] > 1 for ln in _span(stmt))
            kept = names is not None and not shared and not (names & (have - PROVIDED))
            st = _Statement(label, stmt, names if kept else binds(stmt), kept, lines)
            statements.append(st)
            for n in st.names:
                by_name.setdefault(n, []).append(st)

    stars = [st for st in statements if _is_star(st.node)
             and not any(line_owner_of[st.cell][ln] > 1 for ln in _span(st.node))]
    todo = sorted(needed - have)
    wanted, missing = set(), set()
    seen = set(todo)
    while todo:
        name = todo.pop()
        keep = [st for st in by_name.get(name, []) if st.kept]
        if not keep:
            if name not in BUILTINS:
                missing.add(name)
            continue
        for st in keep:
            if id(st) not in wanted:
                wanted.add(id(st))
                for n in st.uses() - have - seen:
                    seen.add(n)
                    todo.append(n)

    # A name no listed definition binds may come from a star import: run them all
    # (each its own piece, see below), and say which, should the name still be missing.
    if missing and stars:
        wanted |= {id(st) for st in stars}

    # A constant computed from a name the grader will not have cannot run either
    # (`X_train = data["X_train"]` when `data` comes from a call): drop it, and
    # remember which name it lacks, for the feedback.
    derived = {}
    changed = True
    while changed:
        changed = False
        for st in statements:
            if id(st) in wanted and isinstance(st.node, (ast.Assign, ast.AnnAssign)):
                # (A name no statement binds may come from a star import: not lacking yet.)
                lacking = sorted(n for n in st.uses() & missing if not stars or n in by_name)
                if lacking:
                    wanted.discard(id(st))
                    changed = True
                    for n in st.names:
                        if not any(id(o) in wanted for o in by_name.get(n, [])):
                            missing.add(n)
                            derived[n] = (st, lacking[0])

    # One piece per statement, so that one that fails in the grader (an import
    # of a module it lacks, say) does not take the next ones with it; blank
    # lines before it keep the line numbers of the notebook's cell (up to a
    # point: a hostile cell must not make the pieces grow quadratically).
    prelude = []
    for st in statements:
        if id(st) in wanted:
            lines = parsed[st.cell][1]
            span = _span(st.node)
            pad = span.start - 1 if span.start <= MAX_PAD else 0
            prelude.append((st.cell, "\n" * pad + "\n".join(lines[ln - 1] for ln in span) + "\n"))

    unavailable = {}
    tests: dict[str, str] = {}
    for label, src in test_cells:
        try:
            for stmt in ast.parse(src).body:
                for n in binds(stmt):
                    tests.setdefault(n, label)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
    for name in sorted(missing):
        skipped = [st for st in by_name.get(name, []) if not st.kept]
        if name in derived:
            st, dep = derived[name]
            lines = parsed[st.cell][1]
            unavailable[name] = (f"`{name}` is set in cell {st.cell} by "
                                 f"`{_snippet(lines, st.node)}`"
                                 f", which needs `{dep}`, a name the grader does not have: {RULE}")
        elif skipped:
            st = skipped[-1]
            lines = parsed[st.cell][1]
            unavailable[name] = (f"`{name}` is set in cell {st.cell} by "
                                 f"`{_snippet(lines, st.node)}`, "
                                 f"a statement the grader does not run: {RULE}")
        elif stars and not any(st.kept for st in by_name.get(name, [])):
            st = stars[-1]
            lines = parsed[st.cell][1]
            unavailable[name] = (f"`{name}` is not set by any import, function, class or "
                                 f"constant of your cells; the grader also ran "
                                 f"`{_snippet(lines, st.node)}` (cell {st.cell}), which did "
                                 "not set it: the grader has the packages installed with the "
                                 "notebook, not its helper modules; import the name itself "
                                 "(`from m import name`) in the exercise cell")
        elif name in tests:
            unavailable[name] = (f"`{name}` is defined in a graded test cell ({tests[name]}), "
                                 f"which the grader does not run: {RULE}")
        elif broken:
            label = next(iter(broken))
            unavailable[name] = (f"`{name}` may be defined in cell {label}, which is not valid "
                                 f"Python ({broken[label]}), so the grader runs none of it")
    return prelude, unavailable

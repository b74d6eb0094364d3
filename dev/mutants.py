"""Mutation testing of the softmax checks: wrong versions of the reference solutions.

A small AST mutator over the six reference solution cells of the source
notebook (`solutions/softmax/softmax.ipynb`). Each operator makes one classic
mistake at one place of one cell (change an axis, drop keepdims, swap mean
and sum, drop or double a term, divide by C or N*C, off-by-one labels,
swapped indices, transposes, in-place updates, float32, hard-coded sizes, no
max shift, a global max, ...) and names its mutation class. Each mutant is
graded as a student through the real checks, in the kernel
(`autograder.hidden.InKernelStudent`), with the other five cells holding the
reference solutions.

A mutant is *killed* when it loses points. Its hint *names the class* when the
first failing test of the mutated exercise names a mistake of that class, and
*contradicts* it when any failing test names a specific mistake outside the class
(a failure of a later exercise may instead point back: `uses_softmax`, ...; the
exercise's formula hint restates the formula and contradicts nothing).
`EQUIVALENT` lists the mutants that are equivalent on the notebook's contract,
with the reason; every other survivor is a hole in the checks.

    python -m dev.mutants          # all (make mutants)
    python -m dev.mutants --sample 3 --seed 0
"""
import argparse
import ast
import copy
import random
import sys
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from autograder.check.registry import run_check
from autograder.hidden import InKernelStudent, LocalTimer

CELLS = ("softmax", "softmax_backward", "cross_entropy_error", "SoftmaxWithLoss",
         "softmax_loss_naive", "softmax_loss_vectorized")

FORMULA = {"softmax": {"softmax_formula", "not_normalized"},
           "softmax_backward": {"backward_formula", "backward_sign", "backward_diag_only"},
           "cross_entropy_error": {"ce_formula"},
           # the integer-label branch of backward: "integer labels are not handled right"
           "SoftmaxWithLoss": {"layer_formula", "ce_formula", "int_labels"},
           "softmax_loss_naive": {"loss_formula", "grad_formula", "grad_inconsistent",
                                  "loss_wrong_grad_consistent", "grad_sign"},
           "softmax_loss_vectorized": {"loss_formula", "grad_formula", "grad_inconsistent",
                                       "loss_wrong_grad_consistent", "grad_sign"}}

# mutation class -> the mistakes (hint names) that name it
ACCEPT = {
    "axis": {"wrong_axis", "backward_wrong_axis", "loss_wrong_axis", "global_max",
             "onehot_labels"},
    "whole_array": {"whole_sum", "backward_whole_sum", "global_max", "onehot_labels"},
    "normalizer": {"not_normalized"},
    "global_max": {"global_max"},
    "keepdims": {"missing_keepdims"},
    "no_max": {"no_max_subtraction"},
    "divisor": {"wrong_divisor"},
    "not_averaged": {"not_averaged", "grad_not_averaged", "backward_not_divided"},
    "reg": {"reg_missing_loss", "reg_missing_grad", "reg_2x_loss", "reg_2x_grad",
            "reg_formula"},
    "delta": {"no_delta", "delta_value"},
    "label": {"label_offset"},
    "index_order": {"index_order", "transpose"},
    "transpose": {"transpose", "shape"},
    # an in-place update of a new array breaks only with integer inputs: int_dtype's
    # hint names in-place updates
    "in_place": {"modifies_input", "layer_state", "int_dtype"},
    "float32": {"float32"},
    # a size written in the 1-D branch fails only for one example: that hint names it
    "hard_coded": {"hard_coded_size", "one_example_1d"},
    "not_float": {"not_float"},
    "shape": {"shape"},
    "dout": {"ignores_dout"},
    "state": {"not_stored", "layer_state"},
    "sign": {"grad_sign", "backward_sign"},
    "labels_format": {"int_labels", "int_onehot", "scalar_label", "n_equals_c",
                      "onehot_labels", "dtype_branch"},
    "formula": set(),
    # the higher-order classes of realistic.py
    "int_dtype": {"int_dtype"},
    "dtype_branch": {"dtype_branch", "int_dtype"},
    "shape_branch": {"n_equals_c", "index_order", "wrong_axis", "missing_keepdims"},
    "cache": {"stale_state", "class_state"},     # a module-level cache is state shared
    "class_state": {"class_state"},
    "subset": {"subset"},
    "log_floor": {"log_floor"},
    "floor": {"log_floor", "softmax_formula"},
    "one_d": {"one_example_1d", "wrong_divisor"},  # its hint: a 1-D y is a batch of N = 1
}
# A failing test of another exercise, or of the speed property, may say this
# without contradicting the cause.
NEUTRAL = {"speed_wrong_result", "uses_softmax", "uses_cross_entropy_error",
           "loss_wrong_grad_consistent", "stability_broken", "stability_formula"}


@dataclass
class Mutant:
    cell: str
    klass: str
    what: str           # one line: the change
    source: str
    ident: str = ""     # stable id: cell:operator:site

    def accepted(self):
        """The hints that name this mutant's class: a classic class needs its own words;
        a generic slip is named by the exercise's formula hint."""
        return ACCEPT[self.klass] if self.klass != "formula" else FORMULA[self.cell]


# ------------------------------------------------------------ AST plumbing


def _parents(tree):
    out = {}
    for node in ast.walk(tree):
        for name, value in ast.iter_fields(node):
            if isinstance(value, list):
                for i, v in enumerate(value):
                    if isinstance(v, ast.AST):
                        out[id(v)] = (node, name, i)
            elif isinstance(value, ast.AST):
                out[id(value)] = (node, name, None)
    return out


def _replace(parents, node, new):
    parent, name, i = parents[id(node)]
    if i is None:
        setattr(parent, name, new)
    else:
        getattr(parent, name)[i] = new


def _statement(parents, node):
    """(list, index) of the statement holding node."""
    while True:
        parent, name, i = parents[id(node)]
        if i is not None and isinstance(getattr(parent, name), list) and \
                isinstance(node, ast.stmt):
            return getattr(parent, name), i
        node = parent


def _expr(text):
    return ast.parse(text, mode="eval").body


def _src(node):
    return ast.unparse(node)


def _names(node):
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | \
           {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}


def _call_name(node):
    if isinstance(node, ast.Call):
        f = node.func
        return f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", None)
    return None


def _kw(call, name):
    for k in call.keywords:
        if k.arg == name:
            return k
    return None


def _docstrings(tree):
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.body and \
                isinstance(node.body[0], ast.Expr) and \
                isinstance(node.body[0].value, ast.Constant):
            out.add(id(node.body[0].value))
    return out


# ------------------------------------------------------------ operators
#
# An operator is fn(tree, node, parents, cell) -> list of (class, what, apply) where
# apply(tree_copy, node_copy, parents_copy) mutates the copy in place.


def _reg_context(parents, node, cell):
    """True when node sits in a regularization term: the term (operand of the
    nearest + or - above it) names reg."""
    cur = node
    while id(cur) in parents:
        parent = parents[id(cur)][0]
        if isinstance(parent, ast.BinOp) and isinstance(parent.op, (ast.Add, ast.Sub)) or \
                isinstance(parent, ast.stmt):
            return "reg" in _names(cur)
        cur = parent
    return False


def op_axis(tree, node, parents, cell):
    out = []
    if not isinstance(node, ast.Call):
        return out
    kw = _kw(node, "axis")
    if kw is None or not isinstance(kw.value, (ast.Constant, ast.UnaryOp)):
        return out
    current = ast.literal_eval(kw.value)
    fname = _call_name(node)
    for new in (-1, 0, 1):
        if new == current or (current == -1 and new == 1 and cell not in CELLS[4:]) or \
                (current == 1 and new == -1):
            continue
        def apply(t, n, p, new=new):
            _kw(n, "axis").value = ast.Constant(new)
        out.append(("axis", f"{fname}: axis={current} -> axis={new}", apply))

    def drop(t, n, p):
        n.keywords = [k for k in n.keywords if k.arg not in ("axis", "keepdims")]
    klass = "global_max" if fname in ("max", "amax") else "whole_array"
    out.append((klass, f"{fname}: no axis (the whole array)", drop))
    return out


def op_keepdims(tree, node, parents, cell):
    if isinstance(node, ast.Call) and _kw(node, "keepdims") is not None:
        def apply(t, n, p):
            n.keywords = [k for k in n.keywords if k.arg != "keepdims"]
        return [("keepdims", f"{_call_name(node)}: keepdims dropped", apply)]
    return []


def op_sum_mean(tree, node, parents, cell):
    name = _call_name(node)
    if name not in ("sum", "mean") or not isinstance(node.func, ast.Attribute):
        return []
    new = "mean" if name == "sum" else "sum"
    klass = "reg" if _reg_context(parents, node, cell) else \
        ("formula" if cell in ("softmax", "softmax_backward") else "not_averaged")
    if name == "sum" and cell in CELLS[4:] + ("cross_entropy_error",) and klass != "reg":
        klass = "divisor"           # a mean where the sum is then divided by N
    if name == "sum" and ("exp" in _src(node) or "exp_scores" in _names(node)):
        klass = "normalizer"        # the softmax's denominator: a mean, not a sum
    elif cell == "softmax":
        klass = "formula"

    def apply(t, n, p, new=new):
        n.func.attr = new
    return [(klass, f"np.{name} -> np.{new}", apply)]


def op_divisor(tree, node, parents, cell):
    """x / N -> x / C, x / (N * C), x (not averaged)."""
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and
            isinstance(node.right, ast.Name) and node.right.id in ("N", "batch_size")):
        return []
    c = {"cross_entropy_error": "y.shape[1]", "SoftmaxWithLoss": "y.shape[1]"}.get(
        cell, "W.shape[0]")
    n = node.right.id
    out = []
    for klass, expr, what in (("divisor", c, f"/ {n} -> / C"),
                              ("divisor", f"({n} * {c})", f"/ {n} -> / (N * C)")):
        def apply(t, nd, p, expr=expr):
            nd.right = _expr(expr)
        out.append((klass, what, apply))

    def drop(t, nd, p):
        _replace(p, nd, nd.left)
    out.append(("not_averaged", f"/ {n} dropped", drop))
    return out


def op_no_max(tree, node, parents, cell):
    """z = s - max(s) -> z = s (no shift before exp)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub) and \
            _call_name(node.right) in ("max", "amax"):
        def apply(t, n, p):
            _replace(p, n, n.left)

        def plus(t, n, p):
            n.op = ast.Add()
        return [("no_max", "no max subtracted", apply),
                ("no_max", "max added instead of subtracted", plus)]
    return []


def op_sign(tree, node, parents, cell):
    out = []
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)) and \
            _call_name(node.right) not in ("max", "amax"):
        reg = "reg" in _names(node.right) and not ("reg" in _names(node.left))
        delta = isinstance(node.right, ast.Constant) and node.right.value == 1e-7
        klass = "reg" if reg else "delta" if delta else \
            "sign" if cell in ("softmax_backward",) else "formula"
        new = ast.Sub() if isinstance(node.op, ast.Add) else ast.Add()

        def apply(t, n, p, new=new):
            n.op = new
        out.append((klass, f"{'+' if isinstance(node.op, ast.Add) else '-'} flipped "
                           f"in {_src(node)[:40]}", apply))
        if not reg:
            def left(t, n, p):
                _replace(p, n, n.left)
            out.append(("delta" if delta else "formula",
                        f"term dropped: {_src(node.right)[:40]}", left))
        else:
            def left(t, n, p):
                _replace(p, n, n.left)
            out.append(("reg", f"regularization dropped: {_src(node.right)[:40]}", left))
    if isinstance(node, ast.AugAssign) and isinstance(node.op, (ast.Add, ast.Sub)):
        klass = "sign" if cell in CELLS[4:] and isinstance(node.op, ast.Sub) else "formula"
        new = ast.Sub() if isinstance(node.op, ast.Add) else ast.Add()

        def aug(t, n, p, new=new):
            n.op = new
        out.append((klass, f"augmented operator flipped in {_src(node)[:40]}", aug))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and \
            not isinstance(node.operand, ast.Constant):
        def unary(t, n, p):
            _replace(p, n, n.operand)
        out.append(("formula", f"minus dropped in {_src(node)[:40]}", unary))
    return out


def op_constant(tree, node, parents, cell):
    if not (isinstance(node, ast.Constant) and isinstance(node.value, float)):
        return []
    v = node.value
    out = []
    if v == 1e-7:
        for new, klass in ((0.0, "delta"), (1e-3, "delta"), (1e-12, "delta")):
            out.append((klass, f"delta {v:g} -> {new:g}", new))
    elif v == 0.5:
        out += [("reg", "0.5 -> 1.0", 1.0), ("reg", "0.5 -> 0.0", 0.0)]
    elif v == 1.0:
        out += [("formula", "1.0 -> 2.0", 2.0), ("formula", "1.0 -> 0.0", 0.0)]
    elif v != 0.0:
        out += [("formula", f"{v:g} -> {2 * v:g}", 2 * v)]
    result = []
    for klass, what, new in out:
        def apply(t, n, p, new=new):
            n.value = new
        result.append((klass, what, apply))
    return result


def op_reg_double(tree, node, parents, cell):
    """reg * W -> 2 * reg * W: the classic factor-of-two convention mix-up."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult) and \
            isinstance(node.left, ast.Name) and node.left.id == "reg":
        def apply(t, n, p):
            n.left = _expr("2 * reg")
        return [("reg", "reg * W -> 2 * reg * W", apply)]
    return []


def op_label(tree, node, parents, cell):
    """The true-class index off by one: y[i] -> y[i] - 1 / + 1, [y, cols] -> [y + 1, cols]."""
    if not isinstance(node, ast.Subscript):
        return []
    sl = node.slice
    out = []
    if isinstance(sl, ast.Tuple) and len(sl.elts) == 2:
        names = [(_src(e), k) for k, e in enumerate(sl.elts)]
        for text, k in names:
            if text in ("y", "t", "t.reshape(-1)"):
                for d in ("+ 1", "- 1"):
                    def apply(t_, n, p, k=k, d=d, text=text):
                        n.slice.elts[k] = _expr(f"({text}) {d}")
                    out.append(("label", f"label index {text} {d}", apply))

        def swap(t_, n, p):
            n.slice.elts = n.slice.elts[::-1]
        out.append(("index_order", f"index order swapped in {_src(node)[:40]}", swap))
    elif _src(node) == "y[i]":
        for d in ("+ 1", "- 1"):
            def apply(t_, n, p, d=d):
                _replace(p, n, _expr(f"y[i] {d}"))
            out.append(("label", f"label y[i] {d}", apply))
    return out


def op_transpose(tree, node, parents, cell):
    if isinstance(node, ast.Attribute) and node.attr == "T":
        def apply(t, n, p):
            _replace(p, n, n.value)
        return [("transpose", f"transpose dropped: {_src(node)}", apply)]
    return []


def op_in_place(tree, node, parents, cell):
    """v = a - b  ->  a -= b; v = a   (an in-place update of a, maybe an input)."""
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Sub, ast.Add)) and
            isinstance(node.left, ast.Name)):
        return []
    stmt_list, i = _statement(parents, node)
    if not isinstance(stmt_list[i], (ast.Assign, ast.Return)):
        return []

    def apply(t, n, p):
        lst, k = _statement(p, n)
        aug = ast.AugAssign(target=ast.Name(n.left.id, ast.Store()), op=n.op, value=n.right)
        _replace(p, n, ast.Name(n.left.id, ast.Load()))
        lst.insert(k, aug)
    return [("in_place", f"in place: {n_src(node)}", apply)]


def n_src(node):
    return _src(node)[:40]


def op_float32(tree, node, parents, cell):
    """The first array argument converted to float32 on entry."""
    if not isinstance(node, ast.FunctionDef) or node.name in ("__init__",):
        return []
    args = [a.arg for a in node.args.args if a.arg != "self"]
    if not args or node.name == "backward":
        return []
    arg = args[0]

    def apply(t, n, p, arg=arg):
        body = n.body
        at = 1 if body and isinstance(body[0], ast.Expr) and \
            isinstance(body[0].value, ast.Constant) else 0
        body.insert(at, ast.parse(f"{arg} = np.asarray({arg}, dtype=np.float32)").body[0])
    return [("float32", f"{node.name}: {arg} as float32", apply)]


def op_hard_coded(tree, node, parents, cell):
    """A size from the arrays replaced by the notebook's: C = 10, D = 65."""
    text = _src(node) if isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)) else ""
    subs = {"W.shape[0]": "10", "W.shape": "(10, 65)", "y.reshape(1, -1)": "y.reshape(1, 10)",
            "t.reshape(1, -1)": "t.reshape(1, 10)", "self.y.reshape(1, -1)":
                "self.y.reshape(1, 10)"}
    if text in subs:
        def apply(t, n, p, new=subs[text]):
            _replace(p, n, _expr(new))
        return [("hard_coded", f"{text} -> {subs[text]}", apply)]
    return []


def op_float_return(tree, node, parents, cell):
    if _call_name(node) == "float" and isinstance(node.func, ast.Name):
        def apply(t, n, p):
            n.func = _expr("np.atleast_1d")
        return [("not_float", "float(...) -> np.atleast_1d(...)", apply)]
    return []


def op_layer(tree, node, parents, cell):
    """The layer's own mistakes: shape, dout, stored state."""
    if cell != "SoftmaxWithLoss":
        return []
    out = []
    text = _src(node)
    if text == "dx.reshape(self.y.shape)":
        def apply(t, n, p):
            _replace(p, n, _expr("dx"))
        out.append(("shape", "backward returns the batch shape for a 1-D x", apply))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult) and \
            isinstance(node.right, ast.Name) and node.right.id == "dout":
        def apply(t, n, p):
            _replace(p, n, n.left)
        out.append(("dout", "dout ignored", apply))
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
            _src(node.targets[0]) in ("self.t", "self.y"):
        target = _src(node.targets[0])

        def apply(t, n, p, target=target):
            n.targets = [ast.Name(target.split(".")[1], ast.Store())]
        where = "in __init__" if isinstance(node.value, ast.Constant) else "in forward"
        out.append(("state", f"{target} not stored {where} (a local instead)", apply))
    return out


def op_formula(tree, node, parents, cell):
    """Generic slips in a formula: * <-> /, a factor dropped, max <-> min, exp or log dropped."""
    out = []
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        def apply(t, n, p):
            n.op = ast.Mult()
        out.append(("formula", f"/ -> * in {n_src(node)}", apply))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult) and \
            not (isinstance(node.right, ast.Name) and node.right.id in ("dout", "reg")) and \
            not (isinstance(node.left, ast.Name) and node.left.id == "reg") and \
            not _reg_context(parents, node, cell):
        for side in ("left", "right"):
            def apply(t, n, p, side=side):
                _replace(p, n, getattr(n, side))
            out.append(("formula", f"factor dropped, kept {side}: {n_src(node)}", apply))
    name = _call_name(node)
    if name in ("max", "amax") and isinstance(node.func, ast.Attribute):
        def apply(t, n, p):
            n.func.attr = "min"
        out.append(("no_max", "np.max -> np.min (shift by the minimum)", apply))
    if name in ("exp", "log") and isinstance(node.func, ast.Attribute) and node.args:
        def apply(t, n, p):
            _replace(p, n, n.args[0])
        out.append(("formula", f"np.{name} dropped", apply))
    return out


OPERATORS = (op_axis, op_keepdims, op_sum_mean, op_divisor, op_no_max, op_sign, op_constant,
             op_reg_double, op_label, op_transpose, op_in_place, op_float32, op_hard_coded,
             op_float_return, op_layer, op_formula)


def mutants_of(cell, source):
    """Every mutant of one reference cell, in a stable order."""
    tree = ast.parse(source)
    docs = _docstrings(tree)
    nodes = [n for n in ast.walk(tree) if id(n) not in docs]
    parents = _parents(tree)
    out, seen, idents = [], {source.strip()}, set()
    for k, node in enumerate(nodes):
        for op in OPERATORS:
            for j, (klass, what, apply) in enumerate(op(tree, node, parents, cell)):
                t2 = copy.deepcopy(tree)
                n2 = [n for n in ast.walk(t2) if id(n) not in _docstrings(t2)][k]
                apply(t2, n2, _parents(t2))
                ast.fix_missing_locations(t2)
                try:
                    new = ast.unparse(t2)
                    compile(new, "<mutant>", "exec")
                except (SyntaxError, ValueError, TypeError):
                    continue
                if new.strip() in seen or new.strip() == ast.unparse(tree).strip():
                    continue
                seen.add(new.strip())
                ident = f"{cell}:{op.__name__[3:]}:{what}"
                while ident in idents:
                    ident += "'"
                idents.add(ident)
                out.append(Mutant(cell, klass, what, new, ident))
    return out


def all_mutants():
    """The single-token mutants of every reference cell, then the realistic rewrites."""
    from autograder.assignments.softmax.samples import reference_cells
    cells = reference_cells()
    return [m for cell in CELLS for m in mutants_of(cell, cells[cell])] + realistic_mutants()


def realistic_mutants():
    """The higher-order rewrites students make (realistic.py), as Mutants."""
    from .realistic import REALISTIC
    out, idents = [], set()
    for cell, klass, what, source in REALISTIC:
        ident = f"{cell}:realistic:{what}"
        assert ident not in idents, ident
        idents.add(ident)
        out.append(Mutant(cell, klass, what, source.strip("\n"), ident))
    return out


# ------------------------------------------------------------ grading

# Mutants equivalent on the notebook's contract: id -> reason.
EQUIVALENT = {
    "SoftmaxWithLoss:layer:self.y not stored in __init__ (a local instead)":
        "__init__ need not set self.y: forward sets it before anything reads it, and the "
        "contract is about the state after forward",
    "SoftmaxWithLoss:layer:self.t not stored in __init__ (a local instead)":
        "as above, for self.t",
    "softmax_loss_naive:in_place:in place: scores - np.max(scores)":
        "scores is a new array (W.dot(x_i)): updating it in place changes no input",
    "softmax_loss_vectorized:in_place:in place: scores - np.max(scores, axis=0, keepdims":
        "scores is a new array (W.dot(X)): updating it in place changes no input",
    "softmax_loss_vectorized:keepdims:max: keepdims dropped":
        "column layout: (C, N) minus the (N,) maximum over axis 0 broadcasts over the classes, "
        "exactly as with keepdims",
    "softmax_loss_vectorized:keepdims:sum: keepdims dropped":
        "column layout: (C, N) minus the (N,) log-sum over axis 0 broadcasts over the classes, "
        "exactly as with keepdims",
}


def _namespace(cells):
    ns = {"np": np, "__name__": "__main__"}
    import linecache
    for name, source in cells.items():
        filename = f"<cell {name}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(compile(source, filename, "exec"), ns)
    return ns


class GenerousTimer:
    """A reference that always takes an hour: the speed check then judges only its
    result (right, or equal to the naive version). No operator adds a loop, so the
    time of a mutant tells nothing, and on a shared machine its noise would decide
    a few mutants at random; the timing protocol is measured by `make bench`."""

    def timed(self, args):
        return 3600.0


@dataclass
class Graded:
    mutant: Mutant
    failed: dict = field(default_factory=dict)     # test id -> mistake (or None)

    @property
    def killed(self):
        return bool(self.failed)

    def first_own(self, registry):
        for check in registry:
            if check.target == self.mutant.cell and check.test_id in self.failed:
                return self.failed[check.test_id]
        return next(iter(self.failed.values()), None)

    def named(self, registry):
        return self.first_own(registry) in self.mutant.accepted()

    def contradicting(self):
        # The exercise's formula hint restates the whole formula: it may fail to
        # name a cause, but it never points to a wrong one.
        ok = self.mutant.accepted() | NEUTRAL | FORMULA[self.mutant.cell]
        return {t: m for t, m in self.failed.items() if m not in ok}


def grade(mutant, *, assignment=None, timed=True, reference=None, generous=True):
    """The verdicts of every check on the reference notebook with one cell mutated."""
    from autograder.assignments.softmax import ASSIGNMENT
    from autograder.assignments.softmax.samples import reference_cells
    assignment = assignment or ASSIGNMENT
    cells = dict(reference or reference_cells())
    cells[mutant.cell] = mutant.source
    g = Graded(mutant)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ns = _namespace(cells)
        except Exception as e:  # noqa: BLE001 - a mutant may fail to define itself
            g.failed = {c.test_id: f"exec:{type(e).__name__}" for c in assignment.checks}
            return g
        timer = GenerousTimer() if generous else LocalTimer(assignment.timer_reference)
        for check in assignment.checks:
            if check.timed and not timed:
                continue
            v = run_check(check, InKernelStudent(ns), timer, assignment.hints)
            if not v.passed:
                g.failed[check.test_id] = v.mistake
    return g


def needs_timing(mutant):
    return mutant.cell in ("softmax_loss_vectorized", "softmax_loss_naive")


def run(mutants, *, out=sys.stdout, verbose=False):
    """Grade the mutants; print the scores and the survivors; return the summary."""
    from autograder.assignments.softmax import ASSIGNMENT
    from autograder.assignments.softmax.samples import reference_cells
    reference = reference_cells()
    registry = ASSIGNMENT.checks
    t0 = time.perf_counter()
    graded = [grade(m, timed=needs_timing(m), reference=reference) for m in mutants]
    seconds = time.perf_counter() - t0
    equivalent = [g for g in graded if g.mutant.ident in EQUIVALENT]
    judged = [g for g in graded if g.mutant.ident not in EQUIVALENT]
    killed = [g for g in judged if g.killed]
    survivors = [g for g in judged if not g.killed]
    named = [g for g in killed if g.named(registry)]
    contradicting = [g for g in killed if g.contradicting()]
    per_cell = {c: sum(1 for m in mutants if m.cell == c) for c in CELLS}
    summary = {"mutants": len(mutants), "per_cell": per_cell, "equivalent": len(equivalent),
               "killed": len(killed), "survivors": [g.mutant for g in survivors],
               "score": len(killed) / max(1, len(judged)),
               "hint_accuracy": len(named) / max(1, len(killed)),
               "unnamed": [g for g in killed if not g.named(registry)],
               "contradicting": contradicting, "seconds": seconds,
               "equivalent_killed": [g.mutant for g in equivalent if g.killed]}
    p = lambda *a: print(*a, file=out)  # noqa: E731
    p(f"mutants: {len(mutants)} (" + ", ".join(f"{c} {n}" for c, n in per_cell.items()) + ")")
    p(f"equivalent on the contract (listed in EQUIVALENT): {len(equivalent)}")
    p(f"mutation score: {len(killed)}/{len(judged)} non-equivalent mutants lose points "
      f"({100 * summary['score']:.1f}%)")
    p(f"hint accuracy: {len(named)}/{len(killed)} killed mutants get a hint naming their "
      f"class ({100 * summary['hint_accuracy']:.1f}%); hints contradicting the cause: "
      f"{len(contradicting)}")
    generic = [g for g in killed if g.mutant.klass == "formula"]
    classic = [g for g in killed if g.mutant.klass != "formula"]
    p(f"  classic classes: {sum(g.named(registry) for g in classic)}/{len(classic)} named; "
      f"generic slips ('formula', hint = the exercise's formula): "
      f"{sum(g.named(registry) for g in generic)}/{len(generic)}")
    p(f"graded in {seconds:.1f} s (speed judged on results only: see GenerousTimer)")
    for g in survivors:
        p(f"SURVIVOR {g.mutant.ident} [{g.mutant.klass}] {g.mutant.what}")
    for g in summary["unnamed"]:
        p(f"UNNAMED  {g.mutant.ident} [{g.mutant.klass}] {g.mutant.what}: "
          f"{g.first_own(registry)} ({g.failed})")
    for g in contradicting:
        p(f"CONTRA   {g.mutant.ident} [{g.mutant.klass}] {g.mutant.what}: {g.contradicting()}")
    for m in summary["equivalent_killed"]:
        p(f"NOT EQUIVALENT (killed, remove from EQUIVALENT): {m.ident}")
    if verbose:
        for g in graded:
            p(f"{g.mutant.ident:40} [{g.mutant.klass:12}] {g.mutant.what[:50]:50} "
              f"{'killed' if g.killed else 'SURVIVED'} {g.failed}")
    return summary


def sample(mutants, per_cell, seed=0):
    """A representative subset: up to `per_cell` mutants of each class in each cell."""
    rng = random.Random(seed)
    groups = {}
    for m in mutants:
        groups.setdefault((m.cell, m.klass), []).append(m)
    out = []
    for key in sorted(groups):
        ms = groups[key][:]
        rng.shuffle(ms)
        out += ms[:per_cell]
    return out


def cli_agreement(mutants, folder, *, jobs=2, out=sys.stdout):
    """Grade `mutants` end to end with `python -m autograder grade` (sandboxed) and
    compare each test's points with the in-kernel verdicts. Returns the disagreements
    as (mutant id, test id, in-kernel passed, CLI points)."""
    import csv
    import os
    import subprocess
    from pathlib import Path

    from autograder.assignments.softmax import ASSIGNMENT
    from autograder.assignments.softmax.samples import build, reference_cells, write
    folder = Path(folder)
    subs, result = folder / "subs", folder / "out"
    names = {}
    for k, m in enumerate(mutants):
        sid = f"m{k:03d}"
        names[sid] = m
        write(subs, sid, build({m.cell: m.source}))
    env = {key: v for key, v in os.environ.items() if key != "VIRTUAL_ENV"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    r = subprocess.run([sys.executable, "-m", "autograder", "grade", str(subs), "--out",
                        str(result), "--jobs", str(jobs), "--no-progress"],
                       capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise RuntimeError(f"grade failed: {r.stderr[-2000:]}")
    with open(result / "grades.csv", newline="") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    reference = reference_cells()
    disagree = []
    for sid, m in names.items():
        g = grade(m, reference=reference)
        for check in ASSIGNMENT.checks:
            kernel_passed = check.test_id not in g.failed
            points = float(rows[sid][check.test_id])
            if kernel_passed != (points > 0):
                disagree.append((m.ident, check.test_id, kernel_passed, points))
    print(f"CLI agreement: {len(mutants)} mutants x {len(ASSIGNMENT.checks)} tests graded "
          f"end to end, {len(disagree)} disagreements with the in-kernel verdicts", file=out)
    for d in disagree:
        print(f"DISAGREE {d}", file=out)
    return disagree


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", type=int, default=0,
                    help="at most this many mutants per (cell, class); 0 = all")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cell", choices=CELLS)
    ap.add_argument("--list", action="store_true", help="list the mutants, do not grade")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--cli", metavar="FOLDER",
                    help="also grade the (sampled) mutants end to end with the CLI in FOLDER "
                         "and compare")
    args = ap.parse_args(argv)
    mutants = all_mutants()
    if args.cell:
        mutants = [m for m in mutants if m.cell == args.cell]
    if args.sample:
        mutants = sample(mutants, args.sample, args.seed)
    if args.list:
        for m in mutants:
            print(f"{m.ident:40} [{m.klass}] {m.what}")
        return 0
    summary = run(mutants, verbose=args.verbose)
    ok = not summary["survivors"] and summary["hint_accuracy"] >= 0.9
    if args.cli:
        ok = not cli_agreement(mutants, args.cli) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

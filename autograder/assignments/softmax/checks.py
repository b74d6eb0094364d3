"""The hidden tests of the softmax assignment: one registered check per graded test cell.

Each check is declared once, with the test cell it grades (`test_id`), the
solution cell it calls (`target`) and, as its docstring's first line, what it
proves. `contract.md` maps every promise of the notebook to the check that
enforces it and says which tests depend on which.

Each check judges one property, so one mistake costs the tests of the
property it breaks: the loss checks judge the loss, the gradient checks dW,
the stability check the invariance of the student's OWN result under a
shift of the scores (a result that is right or a recognised mistake's), the speed check
the speed of a result that is right or wrong only by a mistake the loss and gradient
tests name (agreeing with the student's own naive version does not count: see
`speed_verifier`). A failure names the property in
its message and, in `mistake`, the cause (see `mistakes.py`).
"""
import ast
import symtable
import textwrap

import numpy as np

from autograder.check import timing
from autograder.model import CoreMistake, Outcome
from autograder.check.registry import (
    ATOL, RTOL, Fail, Registry, as_array, close, nonfinite, rel_error, require_ok,
)
from autograder.wording import failed_call
from . import inputs
from . import mistakes as mk
from . import reference as ref

REGISTRY = Registry()

# cross_entropy_error's 1e-7 delta moves a loss by up to ~1e-5: a solution
# written without it (log-sum-exp, say) is still right.
CE_RTOL, CE_ATOL = 1e-4, 1e-4
# softmax_backward is one product and one sum: every float64 way of writing it
# agrees to ~1e-15, so a tight tolerance costs no correct solution and sees
# inputs rounded to float32.
BACKWARD_RTOL, BACKWARD_ATOL = 1e-9, 1e-12
# The notebook's own sizes (digits: 10 classes, 65 features with the bias):
# right on these and wrong on others is the mark of a size written as a number.
NOTEBOOK_C, NOTEBOOK_D = 10, 65


def _scalar(value, what):
    """A returned loss as one float; a number, never an array (the notebook: "a float")."""
    if isinstance(value, dict) or isinstance(value, list) or value is None:
        kind = value.get("__bad__") if isinstance(value, dict) else type(value).__name__
        raise Fail(f"{what} returned a {kind}, not a number", CoreMistake.NOT_ARRAY)
    a = np.asarray(value, dtype=float)
    if a.ndim != 0:
        raise Fail(f"{what} returned an array of shape {a.shape}, not a single float",
                   "not_float")
    return float(a)


def _pair(out, what, dw_shape=None):
    """(loss, dW) from a softmax_loss_* outcome; dW's shape checked when given."""
    require_ok(out, what)
    v = out.value
    if not isinstance(v, list) or len(v) != 2:
        raise Fail(f"{what} must return a pair (loss, dW)", CoreMistake.NOT_ARRAY)
    loss = _scalar(v[0], what + ": the loss")
    if dw_shape is None:
        return loss, v[1]
    dW = as_array(Outcome(True, v[1]), what + ": dW", dw_shape)
    return loss, dW


# ------------------------------------------------------------ inputs


def _scores(rng, *shape, scale=3.0):
    return rng.normal(size=shape) * scale


def _onehot(labels, C):
    t = np.zeros((len(labels), C))
    t[np.arange(len(labels)), labels] = 1.0
    return t


def classifier_cases(seed=7):
    """(W, X, y, reg) over C = 3 and 10, N = 1 and many, reg = 0 and > 0."""
    rng = np.random.default_rng(seed)
    cases = []
    for C, D in ((3, 5), (NOTEBOOK_C, NOTEBOOK_D)):
        for N in (1, 40):
            for reg in (0.0, 0.37):
                # Weights of a typical size (an initialised or trained model): every
                # class keeps a probability far above 1e-7, so a loss written with
                # the usual -log(p + 1e-7) guard is as right as the exact one.
                W = rng.normal(size=(C, D)) * 0.05
                X = rng.normal(size=(D, N))
                X[-1] = 1.0               # the bias trick's row of ones
                y = rng.integers(0, C, size=N)
                cases.append((W, X, y, reg))
    return cases


def _shape_pattern(sizes, failed, first, batch_mistake=None):
    """A mistake named by which inputs fail, else None.

    sizes[i] = (n, c, d) of input i (d None when it has no features);
    `failed` the indices that failed, `first` the first of them.
    """
    ok = [i for i in range(len(sizes)) if i not in failed]
    notebook = [i for i, (n, c, d) in enumerate(sizes)
                if c == NOTEBOOK_C and d in (None, NOTEBOOK_D)]
    if notebook and all(i in ok for i in notebook):
        return "hard_coded_size"
    singles = [i for i, (n, c, d) in enumerate(sizes) if n == 1]
    if batch_mistake and singles and all(i in ok for i in singles) and sizes[first][0] > 1:
        return batch_mistake
    return None


# A mistake named by a dimension value that every failing input shares: the
# first entry (in this order) that all failures hold and some passing input lacks.
DIM_MISTAKES = {
    ("dtype", "int"): "int_dtype",
    ("dtype", "float32"): "dtype_branch",
    ("dtype", "W float32"): "dtype_branch",
    ("labels", "int one-hot"): "int_onehot",
    ("labels", "python int"): "scalar_label",
    ("labels", "numpy int"): "scalar_label",
    ("labels", "int32 indices"): "dtype_branch",
    ("labels", "int32"): "dtype_branch",
    ("use", "two layers interleaved"): "class_state",
    ("use", "backward twice"): "layer_state",
    ("calls", "twice"): "stale_state",
    ("shape", "large N"): "subset",
    ("shape", "N=1"): "batch_of_one",
    ("shape", "1-D"): "one_example_1d",
    ("regime", "per-row offsets"): "global_max",
    ("regime", "zero at the label"): "no_delta",
    ("reg", "positive"): "reg_formula",
}


# The dimension values whose pattern outranks a value's diagnosis.
PRIORITY = {k: v for k, v in DIM_MISTAKES.items() if k[0] in ("dtype", "labels")}


def _dim_pattern(dims, failed, table, everything_failed=None):
    """The mistake of the first (dimension, value) of `table` that every failing input
    holds and some passing input does not, else None. `failed` may be a part of the
    failures (those that raised): `everything_failed` is then all of them."""
    if not dims or not failed:
        return None
    gone = failed if everything_failed is None else everything_failed
    passed = [d for j, d in enumerate(dims) if j not in gone]
    for (name, value), mistake in table.items():
        values = value if isinstance(value, tuple) else (value,)
        if all(dims[j].get(name) in values for j in failed) and \
                any(d.get(name) not in values for d in passed):
            return mistake
    return None


INDEX_LABELS = ("int64 indices", "int32 indices", "python int", "numpy int")


def _label_format(cases, failed):
    """'int_labels' when every failing case has integer labels and a one-hot case passed;
    'onehot_labels' the other way round; else None."""
    kinds = [c.dims.get("labels") for c in cases]
    bad = {kinds[j] for j in failed}
    good = {k for j, k in enumerate(kinds) if j not in failed}
    if bad and bad <= set(INDEX_LABELS) and good & {"float one-hot", "int one-hot"}:
        return "int_labels"
    if bad and not bad & set(INDEX_LABELS) and None not in bad and good & set(INDEX_LABELS):
        return "onehot_labels"
    return None


class _Failures:
    """The failing inputs of one check; `raise_first` names the first one's cause.

    `dims[i]` the dimension values of input i (see inputs.py), which name a mistake
    that shows only for one value (integer dtypes, integer one-hot labels, a second
    layer) when nothing else does; `table` extends DIM_MISTAKES for this check.
    """

    def __init__(self, sizes, *, batch_mistake=None, batch_error=None, fallback=None, dims=None,
                 table=None, probe=None):
        self.sizes, self.batch_mistake, self.fallback = sizes, batch_mistake, fallback
        # The mistake named by a ValueError raised only on batches: every one-example
        # input passed (shapes that line up for one row and not for several).
        self.batch_error = batch_error
        self.probe = probe              # probe(index, outcome) -> mistake, when all else fails
        self.dims, self.table = dims, {**(table or {}), **DIM_MISTAKES}
        self.items = []                 # (index, message, mistake or None, the failed
                                        # call's Outcome or None for a wrong value,
                                        # what the call the message reports raised)
        self.by_value = set()           # items whose mistake was read from a wrong value

    # Diagnosing a wrong value computes every catalogued wrong version on its input:
    # the first few failures name the cause, the rest only count as failed.
    DIAGNOSED = 3

    def diagnosing(self):
        """True while a wrong value is still worth diagnosing."""
        return len(self.items) < self.DIAGNOSED

    def add(self, i, message, mistake=None, out=None, value=False, raised=None):
        """`out` the Outcome of the call that failed (None when it gave a wrong value);
        `raised` what the call `message` reports raised, when that is not `out`."""
        self.items.append((i, message, mistake, out,
                           raised or (out.raised if out is not None else None)))
        if value:
            self.by_value.add(len(self.items) - 1)

    def raise_first(self):
        if not self.items:
            return
        i, message, mistake, out, raised = self.items[0]
        failed = {j for j, *_ in self.items}
        if 0 in self.by_value and \
                any(self.items[k][2] != mistake for k in self.by_value):
            # Inputs disagree: a batch of one can make two mistakes coincide (a sum
            # over the batch of one row is that row). The largest batch decides.
            k = max(self.by_value, key=lambda k: self.sizes[self.items[k][0]][0])
            mistake = self.items[k][2]
        # A dtype or a label format that alone fails says more than the value it gave.
        if len(failed) > 1:
            mistake = _dim_pattern(self.dims, failed, PRIORITY) or mistake
        if mistake is None:
            mistake = mk.from_outcome(out)
        if mistake is None and self.batch_error and out is not None and \
                _raised_exactly(out, ValueError) and self.sizes[i][0] > 1:
            singles = [j for j, s in enumerate(self.sizes) if s[0] == 1]
            if singles and not any(j in failed for j in singles):
                mistake = self.batch_error
        if mistake is None:
            # Two mistakes can meet: the failures of the first one's kind (raised, by
            # its class; or gave a value) may share a dimension value the others do not.
            kind = _how(out)
            same = {j for j, _, _, o, _ in self.items if _how(o) == kind}
            mistake = _dim_pattern(self.dims, failed, self.table) or \
                _dim_pattern(self.dims, same, self.table, failed)
        if mistake is None:
            mistake = _shape_pattern(self.sizes, failed, i, self.batch_mistake)
        if mistake is None and self.probe is not None:
            mistake = self.probe(i, out)
        raise Fail(message, mistake or self.fallback, raised=raised)


def _how(out):
    """How a call failed, to group failures: by the class it raised, or that the grader
    stopped it, or that its cell failed; None for a call that gave a wrong value."""
    if out is None:
        return None
    if out.stopped is not None:
        return "stopped"
    if out.cell_error is not None:
        return "cell"
    return out.raised.type_name if out.raised is not None else out.kind


# ------------------------------------------------------------ Part 1


def hidden_cases(name):
    """The covering set of one exercise's hidden inputs (`inputs.cases`); one place for
    the property test to put its own."""
    return inputs.cases(name)


def _calls(cases):
    """Each case's arguments, twice in a row where its `calls` dimension says so:
    (the argument tuples, the index of the case each call belongs to)."""
    calls, owner = [], []
    for i, c in enumerate(cases):
        for _ in range(2 if c.dims.get("calls") == "twice" else 1):
            calls.append(c.args)
            owner.append(i)
    return calls, owner


def _outcomes(student, fn, cases):
    """[(case index, case, outcome, which call of it)] for one batched request."""
    calls, owner = _calls(cases)
    outs = student.call(fn, calls)
    seen = {}
    for i, out in zip(owner, outs):
        seen[i] = seen.get(i, 0) + 1
        yield i, cases[i], out, seen[i]


def _tol(case, rtol=None, atol=None):
    """(rtol, atol) for a case: float32 inputs carry ~7 digits, a float64 one the
    check's own tolerance."""
    rtol, atol = case.extra.get("rtol", rtol or RTOL), case.extra.get("atol", atol or ATOL)
    return (max(rtol, 1e-4), max(atol, 1e-6)) if case.float32 else (rtol, atol)


def _sizes_of(cases):
    """(n, c, None) of row-layout inputs: the first argument's batch and classes."""
    out = []
    for c in cases:
        a = np.asarray(c.args[0])
        out.append((a.shape[0] if a.ndim == 2 else 1, a.shape[-1], None))
    return out


def _stale(got, i, cases, want, rtol=RTOL, atol=ATOL):
    """'stale_state' when `got` is the right answer of an earlier input of the same
    shapes (a cache keyed on the shape, a global kept from the last call), else None."""
    shapes = [np.shape(c.args[0]) for c in cases]
    for j in range(i):
        if shapes[j] == shapes[i] and close(got, want(cases[j]), rtol, atol) and \
                not close(got, want(cases[i]), rtol, atol):
            return "stale_state"
    return None


# Regimes that only a missing (or wrong) maximum shift turns into nan or inf.
OVERFLOW = {"offset +1000": "no_max_subtraction", "offset -1000": "no_max_subtraction",
            "gap of 720": "no_max_subtraction", "per-row offsets": "global_max"}


@REGISTRY.check("test_softmax", target="softmax")
def check_softmax(student):
    """softmax gives the right probabilities over the last axis for every shape, dtype and score regime of the contract (huge offsets, one maximum per row, gaps of 720, underflow), called once or twice, and leaves x unchanged."""
    cases = hidden_cases("softmax")
    fails = _Failures(_sizes_of(cases), batch_mistake="whole_sum",
                      batch_error="missing_keepdims", fallback="softmax_formula",
                      dims=[c.dims for c in cases])
    for i, case, out, k in _outcomes(student, "softmax", cases):
        (x,) = case.args
        what = f"softmax(x) for x of shape {x.shape} ({case.label()})" + \
            (", called a second time" if k == 2 else "")
        if not out.ok:
            fails.add(i, failed_call(what, out), out=out)
            continue
        got = as_array(out, what, x.shape)
        x64 = np.asarray(x, dtype=float)
        if any(out.modified):
            fails.add(i, f"{what} changed its input x", CoreMistake.MODIFIES_INPUT)
        elif not close(got, ref.softmax(x64), *_tol(case)):
            if k == 2:
                fails.add(i, f"{what} gives another result than the first call", "stale_state")
                continue
            if not fails.diagnosing():
                fails.add(i, f"{what} is wrong")
                continue
            diag = mk.named(mk.diagnose(got, mk.softmax_variants(x64)), mk.SOFTMAX_ALIASES)
            mistake = diag or (OVERFLOW.get(case.dims.get("regime")) if nonfinite(got) else None)
            mistake = mistake or _stale(got, i, cases,
                                        lambda c: ref.softmax(np.asarray(c.args[0], float)))
            fails.add(i, f"{what} is wrong" + (" (nan or inf)" if nonfinite(got) else ""),
                      mistake, value=diag is not None)
        elif not case.float32 and mk.is_float32(got):
            fails.add(i, f"{what} is computed in float32", "float32")
    fails.raise_first()


@REGISTRY.check("test_softmax_backward", target="softmax_backward")
def check_softmax_backward(student):
    """softmax_backward returns y * (dout - sum(dout * y)) per example (the numerical gradient of sum(dout * softmax(x))) for every shape and dtype of the contract, one-hot-like y and a constant dout, called once or twice, leaving its inputs unchanged."""
    cases = hidden_cases("softmax_backward")
    sizes = [(np.asarray(c.args[1]).shape[0] if np.ndim(c.args[1]) == 2 else 1,
              np.shape(c.args[1])[-1], None) for c in cases]
    fails = _Failures(sizes, batch_mistake="backward_whole_sum",
                      batch_error="missing_keepdims", fallback="backward_formula",
                      dims=[c.dims for c in cases])
    for i, case, out, k in _outcomes(student, "softmax_backward", cases):
        dout, y = (np.asarray(a, dtype=float) for a in case.args)
        what = f"softmax_backward(dout, y) for shape {y.shape} ({case.label()})" + \
            (", called a second time" if k == 2 else "")
        if not out.ok:
            fails.add(i, failed_call(what, out), out=out)
            continue
        got = as_array(out, what, y.shape)
        want = ref.softmax_backward(dout, y)
        if any(out.modified):
            fails.add(i, f"{what} changed its input arrays", CoreMistake.MODIFIES_INPUT)
        elif not close(got, want, *_tol(case, BACKWARD_RTOL, BACKWARD_ATOL)):
            if k == 2:
                fails.add(i, f"{what} gives another result than the first call", "stale_state")
                continue
            if not fails.diagnosing():
                fails.add(i, f"{what} does not match the numerical gradient")
                continue
            if not case.float32 and (
                    close(got, ref.softmax_backward(mk.as32(dout), mk.as32(y)), 1e-9, 1e-12) or
                    close(got, ref.softmax_backward(mk.as32(dout), y), 1e-9, 1e-12)):
                fails.add(i, f"{what} is computed in float32", "float32")
                continue
            fails.add(i, f"{what} does not match the numerical gradient",
                      mk.named(mk.diagnose(got, mk.softmax_backward_variants(dout, y)),
                               mk.BACKWARD_ALIASES) or _stale(got, i, cases, lambda c: (
                                   ref.softmax_backward(*(np.asarray(a, float) for a in c.args)))),
                      value=True)
        elif not case.float32 and mk.is_float32(got):
            fails.add(i, f"{what} is computed in float32", "float32")
    fails.raise_first()


# ------------------------------------------------------------ Part 2


def _ce_index_error(out, student):
    """After an IndexError: labels off by one, or indices in the wrong order.

    Calls cross_entropy_error on N = 3 < C = 10 examples whose labels are all below
    C - 1: indices in the wrong order still fail there, labels off by one give a value.
    """
    if not mk.raised_index_error(out):
        return None
    rng = np.random.default_rng(20)
    yy = ref.softmax(_scores(rng, 3, 10, scale=1.0))
    t = np.array([0, 8, 5])
    (probed,) = student.call("cross_entropy_error", [(yy, t)])
    if not probed.ok:
        return "index_order"
    try:
        got = _scalar(probed.value, "cross_entropy_error")
    except Fail:
        return None
    if close(got, ref.cross_entropy_error(yy, t), CE_RTOL, CE_ATOL):
        return "onehot_labels"      # integer labels work: the one-hot path fails
    return "label_offset"


ONEHOT = ("float one-hot", "int one-hot")


@REGISTRY.check("test_cross_entropy_error", target="cross_entropy_error")
def check_cross_entropy_error(student):
    """cross_entropy_error returns one float, the batch mean of -log(y[label] + 1e-7), for every label format of the contract (integer indices of any integer dtype, a Python or NumPy integer, float or integer one-hot), every shape (N = C, C = 2 included), float32 y, confident right and wrong predictions and a probability of exactly 0, called once or twice."""
    cases = hidden_cases("cross_entropy_error")
    sizes = [(np.atleast_2d(c.args[0]).shape[0], np.shape(c.args[0])[-1], None) for c in cases]
    def probe(i, out):
        return _ce_index_error(out, student) or \
            _label_format(cases, {j for j, *_ in fails.items})

    fails = _Failures(sizes, fallback="ce_formula", dims=[c.dims for c in cases],
                      table={("shape", "N=C"): "n_equals_c",
                             ("regime", "confident wrong"): "delta_value",
                             ("regime", "confident right"): "delta_value"},
                      probe=probe)
    for i, case, out, k in _outcomes(student, "cross_entropy_error", cases):
        y, t = case.args
        kind = case.dims.get("labels")
        what = f"cross_entropy_error(y, t) with y of shape {np.shape(y)}, {kind} labels " \
               f"({case.label()})" + (", called a second time" if k == 2 else "")
        if not out.ok:
            fails.add(i, failed_call(what, out), mk.from_outcome(out), out)
        else:
            got = _scalar(out.value, what)
            want = ref.cross_entropy_error(y, t)
            if any(out.modified):
                fails.add(i, f"{what} changed its input arrays", CoreMistake.MODIFIES_INPUT)
            elif not close(got, want, *_tol(case, CE_RTOL, CE_ATOL)):
                if k == 2:
                    fails.add(i, f"{what} gives another result than the first call",
                              "stale_state")
                    continue
                if not fails.diagnosing():
                    fails.add(i, f"{what} is wrong")
                    continue
                mistake = mk.named(mk.diagnose(got, mk.cross_entropy_variants(y, t), 1e-7, 1e-9),
                                   mk.CE_ALIASES)
                if mistake is None and nonfinite(got) and \
                        case.dims.get("regime") in ("zero at the label", "confident wrong"):
                    mistake = "no_delta"        # log of 0 (or of p - delta < 0)
                mistake = mistake or _stale(got, i, cases,
                                            lambda c: ref.cross_entropy_error(*c.args),
                                            CE_RTOL, CE_ATOL)
                fails.add(i, f"{what} is wrong", mistake, value=True)
            elif not case.float32 and mk.is_float32(got):
                fails.add(i, f"{what} is computed in float32", "float32")
    fails.raise_first()


def _upstream(student, x, t):
    """'uses_softmax' / 'uses_cross_entropy_error' when the student's own Part 1-2
    function is wrong on the layer's input, else None."""
    (sm,) = student.call("softmax", [(x,)])
    try:
        got = as_array(sm, "softmax", np.shape(x))
        if not close(got, ref.softmax(x)):
            return "uses_softmax"
    except Fail:
        return "uses_softmax"
    (ce,) = student.call("cross_entropy_error", [(ref.softmax(x), t)])
    try:
        if not close(_scalar(ce.value, "ce"), ref.cross_entropy_error(ref.softmax(x), t),
                     CE_RTOL, CE_ATOL):
            return "uses_cross_entropy_error"
    except Fail:
        return "uses_cross_entropy_error"
    if not ce.ok:
        return "uses_cross_entropy_error"
    return None


def _layer_steps(i, case):
    """The method calls of case i, on instance 2i (and 2i + 1 for a second layer)."""
    x, t = case.args
    d = case.dims.get("dout", "default")
    dout = () if d == "default" else (float(d),)
    use = case.dims.get("use", "one layer")
    k, k2 = 2 * i, 2 * i + 1
    steps = [("forward", (x, t), k)]
    if use == "two layers interleaved":
        steps.append(("forward", case.extra["other"], k2))
    steps.append(("backward", dout, k))
    if use == "backward twice":
        steps.append(("backward", dout, k))
    if use == "two layers interleaved":
        steps.append(("backward", dout, k2))
    steps.append(("__getattribute__", ("y",), k))
    return steps


def _layer_outcomes(student, cases):
    """[outcomes of each case's steps], all cases in as few requests as the layer allows:
    the worker stops a request at the first step that raises, so the cases after it
    go in the next request."""
    results, start = [], 0
    while start < len(cases):
        plan = [_layer_steps(i, c) for i, c in enumerate(cases) if i >= start]
        outs = student.layer("SoftmaxWithLoss", [s for steps in plan for s in steps])
        for steps in plan:
            mine, outs = outs[:len(steps)], outs[len(steps):]
            results.append(mine)
            start += 1
            if len(mine) < len(steps) or (mine and not mine[-1].ok):
                break
    return results


def _raised(out, cls):
    """True when the call itself raised the built-in exception class `cls` (or one of
    its subclasses)."""
    return out.call_raised is not None and out.call_raised.is_a(cls)


def _raised_exactly(out, cls):
    """True when the call itself raised the built-in class `cls`, not a subclass."""
    return out.call_raised is not None and out.call_raised.is_exactly(cls)


def _on_none(out):
    """True when the call looked up an attribute on None (a layer's `self.y` that
    forward never set, and __init__ set to None)."""
    return _raised(out, AttributeError) and out.raised.on == "NoneType"


def _layer_index_probe(student, out):
    """After an IndexError in backward: the layer on N = 3 < C = 10 examples whose labels
    are all below C - 1. Indices in the wrong order still fail there (the examples'
    axis is the short one); labels off by one give a value."""
    if not mk.raised_index_error(out):
        return None
    x = np.random.default_rng(21).normal(size=(3, 10))
    t = np.array([0, 8, 5])
    outs = student.layer("SoftmaxWithLoss", [("forward", (x, t)), ("backward", ())])
    if len(outs) < 2 or not outs[0].ok:
        return None
    if not outs[1].ok:
        return "index_order" if mk.raised_index_error(outs[1]) else None
    try:
        got = as_array(outs[1], "backward", x.shape)
    except Fail:
        return None
    return "label_offset" if mk.diagnose(got, mk.label_variants_layer(x, t, 1)) else None


def _want_layer(x, t, dout):
    layer = ref.SoftmaxWithLoss()
    loss = layer.forward(np.asarray(x, dtype=float), t)
    return loss, layer.backward(*dout)


@REGISTRY.check("test_SoftmaxWithLoss", target="SoftmaxWithLoss",
                uses=("softmax", "cross_entropy_error"))
def check_SoftmaxWithLoss(student):
    """SoftmaxWithLoss.forward returns the loss as a float and stores y = softmax(x); backward(dout) returns (y - t) * dout / N, for every shape, label format, dtype and score regime of the contract; backward twice gives the same, two layers used in turn keep their own state, and no input array changes."""
    cases = hidden_cases("SoftmaxWithLoss")
    sizes = [(np.atleast_2d(c.args[0]).shape[0], np.shape(c.args[0])[-1], None) for c in cases]
    fails = _Failures(sizes, fallback="layer_formula", dims=[c.dims for c in cases],
                      table={("shape", "N=C"): "n_equals_c"},
                      probe=lambda i, out: _label_format(
                          cases, {j for j, *_ in fails.items}))
    for i, (case, outs) in enumerate(zip(cases, _layer_outcomes(student, cases))):
        x, t = case.args
        steps = _layer_steps(i, case)
        kind = case.dims.get("labels")
        d = case.dims.get("dout", "default")
        dout = () if d == "default" else (float(d),)
        call = f"backward({', '.join(map(str, dout))})"
        what = f"SoftmaxWithLoss with x of shape {np.shape(x)} and {kind} labels " \
               f"({case.label()})"
        names = [f"{s[0]} of {'the second layer' if s[2] % 2 else 'the layer'}" for s in steps]
        bad = next((j for j, o in enumerate(outs) if not o.ok), None)
        if bad == 0:
            mistake = mk.from_outcome(outs[0]) or _upstream(student, x, t)
            if mistake is None and _on_none(outs[0]):
                mistake = "not_stored"          # forward reads self.y / self.t it never set
            fails.add(i, f"{what}: " + failed_call("forward", outs[0]), mistake, outs[0])
            continue
        want_loss, want_dx = _want_layer(x, t, dout)
        loss = _scalar(outs[0].value, what + ": forward")
        if not close(loss, want_loss, CE_RTOL, CE_ATOL):
            if not fails.diagnosing():
                fails.add(i, f"{what}: forward returned a wrong loss")
                continue
            mistake = _upstream(student, x, t) or mk.named(
                mk.diagnose(loss, mk.cross_entropy_variants(ref.softmax(np.asarray(x, float)), t),
                            1e-7, 1e-9), mk.CE_ALIASES)
            fails.add(i, f"{what}: forward returned a wrong loss", mistake, value=True)
            continue
        if any(outs[0].modified):
            fails.add(i, f"{what}: forward changed its input arrays", CoreMistake.MODIFIES_INPUT)
            continue
        if bad is not None or len(outs) < len(steps):
            j = bad if bad is not None else len(outs)
            failed = outs[j] if bad is not None else None
            mistake = None
            if failed is not None:
                mistake = mk.from_outcome(failed) or _layer_index_probe(student, failed)
                # An attribute forward never set; or an operation on one it left None
                # (a TypeError), which the layer itself confirms.
                if mistake is None and (_raised(failed, AttributeError) or (
                        _raised(failed, TypeError) and _not_stored(student))):
                    mistake = "not_stored"
            fails.add(i, f"{what}: " + (failed_call(names[j], failed) if failed is not None
                                        else f"{names[j]} was not reached"), mistake, failed)
            continue
        j = [s[0] for s in steps].index("backward")
        got = as_array(outs[j], f"{what}: {call}", np.shape(x))
        if not close(got, want_dx) and not fails.diagnosing():
            fails.add(i, f"{what}: {call} is wrong")
        elif not close(got, want_dx):
            variants = {**mk.layer_backward_variants(np.asarray(x, float), t, *dout or (1,)),
                        **mk.label_variants_layer(np.asarray(x, float), t, *dout or (1,))}
            if case.dims.get("use") == "two layers interleaved":
                variants = {"class_state": _want_layer(*case.extra["other"], dout)[1],
                            **variants}
            mistake = mk.named(mk.diagnose(got, variants), mk.LAYER_ALIASES) or \
                _upstream(student, x, t)
            fails.add(i, f"{what}: {call} is wrong", mistake, value=True)
        elif mk.is_float32(got) or mk.is_float32(loss):
            fails.add(i, f"{what}: computed in float32", "float32")
        elif any(o.modified and any(o.modified) for o in outs):
            fails.add(i, f"{what}: a call changed its input arrays", CoreMistake.MODIFIES_INPUT)
        else:
            _layer_extra(fails, i, case, steps, outs, what, call, want_dx)
    if fails.items and fails.items[0][2] is None and _not_stored(student):
        fails.fallback = "not_stored"
    fails.raise_first()
    _check_layer_state(student, np.random.default_rng(14))


def _layer_extra(fails, i, case, steps, outs, what, call, want_dx):
    """The second backward, the second layer and self.y of case i."""
    use = case.dims.get("use", "one layer")
    backs = [j for j, s in enumerate(steps) if s[0] == "backward"]
    x = case.args[0]
    if use == "backward twice" and not close(
            as_array(outs[backs[1]], f"{what}: a second {call}", np.shape(x)), want_dx):
        fails.add(i, f"{what}: a second {call} gives another result", "layer_state")
        return
    if use == "two layers interleaved":
        ox, ot = case.extra["other"]
        d = case.dims.get("dout", "default")
        _, want2 = _want_layer(ox, ot, () if d == "default" else (float(d),))
        got2 = as_array(outs[backs[-1]], f"{what}: {call} of the second layer", np.shape(ox))
        if not close(got2, want2):
            fails.add(i, f"{what}: with a second layer used in between, {call} of one of "
                         f"them is wrong", "class_state")
            return
    if outs[-1].value is None:
        fails.add(i, f"{what}: self.y after {call} is None", "not_stored")
        return
    try:
        y = as_array(outs[-1], f"{what}: self.y after {call}", np.shape(x))
    except Fail as f:
        fails.add(i, f.message, "layer_state", raised=f.raised)
        return
    if not close(y, ref.softmax(np.asarray(x, dtype=float))):
        fails.add(i, f"{what}: self.y after {call} is not softmax(x)", "layer_state")


def _not_stored(student):
    """True when forward leaves self.y or self.t unset (None or missing)."""
    x, t = np.array([[0.5, -0.2, 1.0]]), np.array([2])
    outs = student.layer("SoftmaxWithLoss", [("forward", (x, t)), ("__getattribute__", ("y",)),
                                              ("__getattribute__", ("t",))])
    return len(outs) == 3 and any((not o.ok) or o.value is None for o in outs[1:])


def _check_layer_state(student, rng):
    """self.y after forward and after backward; backward twice; a second forward."""
    x1, x2 = _scores(rng, 5, 4, scale=1.5), _scores(rng, 3, 4, scale=1.5)
    t1, t2 = rng.integers(0, 4, size=5), rng.integers(0, 4, size=3)
    steps = [("forward", (x1, t1)), ("__getattribute__", ("y",)), ("backward", ()),
             ("__getattribute__", ("y",)), ("backward", ()),
             ("forward", (x2, t2)), ("backward", (2.0,)), ("__getattribute__", ("t",))]
    outs = student.layer("SoftmaxWithLoss", steps)
    what = "SoftmaxWithLoss"
    names = ["forward", "self.y after forward", "backward()", "self.y after backward()",
             "a second backward()", "a second forward (a new batch)", "its backward(2.0)",
             "self.t after it"]
    for (op, _), name, out in zip(steps, names, outs):
        if not out.ok:
            # Reading self.y or self.t fails when forward never stored them.
            mistake = "not_stored" if op == "__getattribute__" else "layer_state"
            raise Fail(f"{what}: " + failed_call(name, out), mistake, raised=out.raised)
    if len(outs) < len(steps):
        raise Fail(f"{what}: {names[len(outs)]} was not reached", "layer_state")
    want1, want2 = ref.SoftmaxWithLoss(), ref.SoftmaxWithLoss()
    want1.forward(x1, t1)
    want2.forward(x2, t2)
    for k, name in ((1, "self.y after forward"), (3, "self.y after backward()")):
        if outs[k].value is None:
            raise Fail(f"{what}: {name} is None", "not_stored")
        try:
            y = as_array(outs[k], f"{what}: {name}", x1.shape)
        except Fail as f:
            raise Fail(f.message, "layer_state", raised=f.raised)
        if not close(y, ref.softmax(x1)):
            raise Fail(f"{what}: {name} is not softmax(x)", "layer_state")
    second = as_array(outs[4], f"{what}: a second backward()", x1.shape)
    if not close(second, want1.backward()):
        raise Fail(f"{what}: a second backward() gives another result", "layer_state")
    got = as_array(outs[6], f"{what}: backward(2.0) after a second forward", x2.shape)
    if not close(got, want2.backward(2.0)):
        raise Fail(f"{what}: backward after a second forward does not use the new batch",
                   "layer_state")
    # "the labels in self.t": as given to forward, or the same labels one-hot.
    t = outs[7].value
    forms = (t2, _onehot(t2, x2.shape[1]))
    if t is None or isinstance(t, (dict, list)) or not any(
            np.shape(t) == f.shape and np.array_equal(np.asarray(t, dtype=float), f)
            for f in forms):
        raise Fail(f"{what}: self.t after forward is not the labels given to forward",
                   "not_stored")


# ------------------------------------------------------------ Part 3


def _sizes(cases):
    return [(c.args[1].shape[1], c.args[0].shape[0], c.args[0].shape[1]) for c in cases]


# Part 3: regimes where only a missing (or wrong) maximum shift gives nan or inf;
# what a floor inside the log (1e-7, a clip) changes: the confident predictions.
CLASSIFIER_TABLE = {("regime", ("offset +1000", "offset -1000", "gap of 720")):
                    "no_max_subtraction",
                    ("regime", "confident wrong"): "log_floor",
                    ("regime", "confident right"): "log_floor",
                    ("regime", "offset +1000"): "no_max_subtraction",
                    ("regime", "offset -1000"): "no_max_subtraction",
                    ("regime", "gap of 720"): "no_max_subtraction"}


def _answered(student, fn, fails, cases):
    """(i, case, outcome, what) for each classifier case the student's `fn` answered;
    a case where it raised goes to `fails`, with what the error points at."""
    outs = student.call(fn, [c.args for c in cases])
    for i, (case, out) in enumerate(zip(cases, outs)):
        W, X, y, reg = case.args
        what = f"{fn} with W {W.shape}, X {X.shape}, reg={reg:g} ({case.label()})"
        if out.ok:
            yield i, case, out, what
        else:
            fails.add(i, failed_call(what, out),
                      _index_probe(student, fn, out), out)


def _classifier_failures(cases, fallback):
    return _Failures(_sizes(cases), fallback=fallback, dims=[c.dims for c in cases],
                     table={("shape", "N=C"): "index_order", **CLASSIFIER_TABLE})


def _judge_float32(case):
    """Single precision is judged on float64 inputs: a loss of ~1e-13 (a confident
    right prediction) has too few digits left to tell."""
    return not case.float32 and case.dims.get("regime") != "confident right"


def _want(case, as32=False):
    """The reference (loss, dW) on a classifier case (W rounded to float32 first, with
    `as32`), computed once per case: the loss and gradient checks of both functions,
    and every student of the run, compare with the same one."""
    W, X, y, reg = case.args
    return case.once(("softmax_loss", as32),
                     lambda: ref.softmax_loss(mk.as32(W) if as32 else W, X, y, reg))


def prepare():
    """What every student's checks compute alike, made ahead: the hidden inputs, and the
    references on them a right answer is compared with (the pipeline calls this in a
    background thread as grading starts, while the first student's jail starts)."""
    inputs.prepare()
    for fn in ("softmax_loss_naive", "softmax_loss_vectorized"):
        for case in inputs.cases(fn):
            _want(case)
            if _judge_float32(case):
                _want(case, as32=True)
    for case in inputs.cases("stability"):
        W, X, y, _ = case.extra["base"]
        case.once("base", lambda: ref.softmax_loss(W, X, y, 0.0))


def _check_loss(student, fn):
    cases = hidden_cases(fn)
    fails = _classifier_failures(cases, "loss_formula")
    for i, case, out, what in _answered(student, fn, fails, cases):
        W, X, y, reg = case.args
        loss, _ = _pair(out, what)
        want = _want(case)[0]
        if any(out.modified):
            fails.add(i, f"{what} changed its input arrays", CoreMistake.MODIFIES_INPUT)
        elif not close(loss, want, *_tol(case)):
            if nonfinite(loss):
                # Ordinary scores cannot overflow: nan there is the formula's.
                fails.add(i, f"{what}: the loss is nan or inf",
                          CLASSIFIER_TABLE.get(("regime", case.dims.get("regime"))))
                continue
            # Never by how much: a distance from the expected loss, with the
            # student's own value, gives the hidden expected loss back.
            if not fails.diagnosing():
                fails.add(i, f"{what}: the loss is wrong")
                continue
            fails.add(i, f"{what}: the loss is wrong",
                      mk.named(mk.diagnose(loss, mk.loss_variants(W, X, y, reg)),
                               mk.LOSS_ALIASES) or
                      _stale(loss, i, cases, lambda c: _want(c)[0]), value=True)
        elif _judge_float32(case) and (mk.is_float32(loss) or mk.float32_input(
                loss, want, _want(case, as32=True)[0])):
            fails.add(i, f"{what}: the loss is computed in float32", "float32")
    fails.raise_first()


def _check_grad(student, fn):
    cases = hidden_cases(fn)
    fails = _classifier_failures(cases, "grad_formula")
    for i, case, out, what in _answered(student, fn, fails, cases):
        W, X, y, reg = case.args
        _, dW = _pair(out, what, W.shape)
        want = _want(case)[1]
        rtol, atol = _tol(case)
        if case.float32:
            atol = max(atol, 1e-5 * float(np.max(np.abs(want))))
        if not close(dW, want, rtol, atol):
            if not fails.diagnosing():
                fails.add(i, f"{what}: dW is wrong")
                continue
            # A changed input explains a wrong dW (the loss test charges the change).
            mistake = (CoreMistake.MODIFIES_INPUT if any(out.modified) else None) or \
                mk.named(mk.diagnose(dW, mk.grad_variants(W, X, y, reg)), mk.LOSS_ALIASES) \
                or _stale(dW, i, cases, lambda c: _want(c)[1])
            if mistake is None and nonfinite(dW):
                mistake = CLASSIFIER_TABLE.get(("regime", case.dims.get("regime")))
                mistake = mistake if mistake == "no_max_subtraction" else None
            fails.add(i, f"{what}: dW is wrong", mistake, value=True)
        elif _judge_float32(case) and (mk.is_float32(dW) or mk.float32_input(
                dW, want, _want(case, as32=True)[1])):
            fails.add(i, f"{what}: dW is computed in float32", "float32")
    if fails.items and fails.items[0][2] is None and fails.items[0][3] is None:
        i = fails.items[0][0]
        failed = {j for j, *_ in fails.items}
        if _shape_pattern(fails.sizes, failed, i) is None and \
                _dim_pattern(fails.dims, failed, fails.table) is None:
            fails.fallback = _consistency_hint(student, fn)
    fails.raise_first()


def _index_probe(student, fn, out):
    """Which index is wrong, after an IndexError: calls fn on N = 5 < C = 10 examples
    whose labels are all below C - 1. Indices in the wrong order still fail there
    (the examples' axis is the short one); labels off by one give a value.

    After a ValueError: calls fn with C = D = N. Shapes that do not fit a matrix
    product (X where X.T belongs, an example taken as X[i] instead of X[:, i]) fit
    there, so a call that then returns names the transposed layout."""
    rng = np.random.default_rng(19)
    if out is not None and _raised_exactly(out, ValueError):
        n = NOTEBOOK_C
        W, X = rng.normal(size=(n, n)) * 0.05, rng.normal(size=(n, n))
        (square,) = student.call(fn, [(W, X, rng.integers(0, n, size=n), 0.0)])
        return "transpose" if square.ok else None
    if not mk.raised_index_error(out):
        return None
    W = rng.normal(size=(NOTEBOOK_C, NOTEBOOK_D)) * 0.05
    X = rng.normal(size=(NOTEBOOK_D, 5))
    y = rng.integers(0, NOTEBOOK_C - 1, size=5)
    (out,) = student.call(fn, [(W, X, y, 0.0)])
    if not out.ok:
        return "index_order"
    try:
        loss, dW = _pair(out, fn, W.shape)
    except Fail:
        return None
    right = ref.softmax_loss(W, X, y, 0.0)
    if close(loss, right[0]) and close(dW, right[1]):
        return None                     # right at the notebook's sizes: see _shape_pattern
    for shift in (1, -1):
        want = mk._loss(W, X, y, 0.0, label_shift=shift)
        if close(loss, want[0]) or close(dW, want[1]):
            return "label_offset"
    return "index_order"


def _student_numerical_grad(student, fn, W, X, y, reg, h=1e-5):
    calls, index = [], []
    for i in np.ndindex(W.shape):
        for sign in (1, -1):
            Wp = W.copy()
            Wp[i] += sign * h
            calls.append((Wp, X, y, reg))
        index.append(i)
    outs = student.call(fn, calls)
    num = np.zeros_like(W)
    for k, i in enumerate(index):
        fp = _pair(outs[2 * k], fn)[0]
        fm = _pair(outs[2 * k + 1], fn)[0]
        num[i] = (fp - fm) / (2 * h)
    return num


def _consistency_hint(student, fn):
    """Why dW is wrong, from the student's own loss: 'loss_wrong_grad_consistent' when dW
    is the gradient of a loss that is itself wrong, else 'grad_inconsistent'."""
    W, X, y, reg = classifier_cases()[3]          # C = 3, D = 5, N = 40, reg > 0
    try:
        loss, dW = _pair(student.call(fn, [(W, X, y, reg)])[0], fn, W.shape)
        num = _student_numerical_grad(student, fn, W, X, y, reg)
    except Fail:
        return "grad_formula"
    if rel_error(dW, num) < 1e-6:
        if not close(loss, ref.softmax_loss(W, X, y, reg)[0]):
            return "loss_wrong_grad_consistent"
        return "grad_formula"
    return "grad_inconsistent"


@REGISTRY.check("test_softmax_loss_naive_loss", target="softmax_loss_naive")
def check_softmax_loss_naive_loss(student):
    """softmax_loss_naive returns the right loss as a float (mean cross-entropy + 0.5 reg |W|^2), also for huge scores, and leaves its inputs unchanged."""
    _check_loss(student, "softmax_loss_naive")


@REGISTRY.check("test_softmax_loss_naive_grad", target="softmax_loss_naive")
def check_softmax_loss_naive_grad(student):
    """softmax_loss_naive returns the right dW ((P - Y) X^T / N + reg W) of W's shape."""
    _check_grad(student, "softmax_loss_naive")


@REGISTRY.check("test_softmax_loss_vectorized_loss", target="softmax_loss_vectorized")
def check_softmax_loss_vectorized_loss(student):
    """softmax_loss_vectorized returns the right loss as a float (mean cross-entropy + 0.5 reg |W|^2) and leaves its inputs unchanged."""
    _check_loss(student, "softmax_loss_vectorized")


@REGISTRY.check("test_softmax_loss_vectorized_grad", target="softmax_loss_vectorized")
def check_softmax_loss_vectorized_grad(student):
    """softmax_loss_vectorized returns the right dW ((P - Y) X^T / N + reg W) of W's shape."""
    _check_grad(student, "softmax_loss_vectorized")


def _unstable_cause(loss, dW, W, X, y, base=()):
    """A result that moved under a shift: a wrong axis, or float32 (scores of 1e4
    carry only ~1e-3 in single precision)."""
    if mk.is_float32(loss, dW) or any(mk.is_float32(v) for v in base):
        return "float32"
    for name, (v_loss, v_dW) in mk.stability_variants(W, X, y, 0.0).items():
        if close(loss, v_loss) and close(dW, v_dW):
            return mk.named(name, mk.LOSS_ALIASES)
    rounded = ref.softmax_loss(mk.as32(W), X, y, 0.0)
    if close(loss, rounded[0], 1e-9, 0) and close(dW, rounded[1], 1e-9, 1e-12):
        return "float32"
    return None


@REGISTRY.check("test_softmax_loss_vectorized_stable", target="softmax_loss_vectorized")
def check_softmax_loss_vectorized_stable(student):
    """softmax_loss_vectorized's own result (loss and dW, right or wrong only by a recognised mistake) stays finite and unchanged when the scores get a huge shift common to the classes of an example (+-1000, +10000, one maximum per example), and finite (and right, when it is right on ordinary scores) when one class scores 720 above or below the others, for integer and float inputs of several shapes."""
    fn = "softmax_loss_vectorized"
    cases = hidden_cases("stability")
    outs = student.call(fn, [c.extra["base"] for c in cases] +
                        [c.args for c in cases])
    bases, shifted = outs[:len(cases)], outs[len(cases):]
    for case, base, out in zip(cases, bases, shifted):
        W, X, y, _ = case.extra["base"]
        Ws = case.args[0]
        what = f"{fn} (for its stability, {case.label()})"
        try:
            loss0, dW0 = _pair(base, what, W.shape)
        except Fail as f:
            raise Fail(f"{f.message} on ordinary scores", f.mistake or "stability_broken",
                       raised=f.raised)
        if nonfinite(loss0) or nonfinite(dW0):
            raise Fail(f"{what}: the result has nan or inf even for ordinary scores",
                       "stability_broken")
        right = case.once("base", lambda: ref.softmax_loss(W, X, y, 0.0))
        if not _recognised(loss0, dW0, (W, X, y, 0.0), right):
            # Invariance of a result that is no softmax loss (a constant, zeros) shows
            # nothing: like speed, stability counts only for real work.
            raise Fail(f"{what}: the result on ordinary scores is wrong, and not by a mistake "
                       "the loss and gradient tests name, so its stability does not count",
                       "stability_broken")
        # When the result is already wrong on ordinary scores, a nan under a shift
        # may come from that mistake: the hint then names both, and claims neither.
        wrong_already = not (close(loss0, right[0], *_tol(case)) and
                             close(dW0, right[1], *_tol(case)))
        shift = case.extra["shift"]
        gap, per_example = bool(shift.gap), shift.per_example
        what = f"{fn} when " + (f"one class scores 720 {shift.said} the others" if gap
                                else "each example's scores are shifted by its own large amount"
                                if per_example else f"every score is shifted by {shift.said}")
        what += f" ({case.label()})"
        if not out.ok:
            raise Fail(f"{what}: " + failed_call("it", out),
                       mk.from_outcome(out) or "stability_broken", raised=out.raised)
        loss, dW = _pair(out, what, Ws.shape)
        if nonfinite(loss) or nonfinite(dW):
            raise Fail(f"{what}: the result has nan or inf", "stability_formula"
                       if wrong_already else "global_max" if per_example
                       else "no_max_subtraction")
        if gap:
            want = case.once("shifted", lambda: ref.softmax_loss(Ws, X, y, 0.0))
            if not wrong_already and not (close(loss, want[0]) and close(dW, want[1])) and \
                    not _recognised(loss, dW, (Ws, X, y, 0.0), want):
                raise Fail(f"{what}: the result is wrong", _unstable_cause(loss, dW, Ws, X, y)
                           or "no_max_subtraction")
            continue
        if not (close(loss, loss0) and close(dW, dW0)):
            raise Fail(f"{what}: the result is wrong (it changed, and softmax does not "
                       f"change under such a shift)",
                       _unstable_cause(loss, dW, Ws, X, y, (loss0, dW0))
                       or ("global_max" if per_example else "no_max_subtraction"))


# ------------------------------------------------------------ speed

LOOP_NODES = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp,
              ast.GeneratorExp, ast.YieldFrom)
# Methods that make a class's instances iterable: each item a call of student code, a loop
# as map's (sum(Rows(X)) runs __next__ once per example).
ITERATION_METHODS = {"__iter__", "__next__"}
# Loop helpers by any name they are reached under (np.vectorize, numpy.vectorize, ...).
LOOP_ATTRIBUTES = {"vectorize", "apply_along_axis", "apply_over_axes", "frompyfunc",
                   "softmax_loss_naive"}
# Loop helpers of the standard library, and code run from text (what it runs cannot be
# read, so it counts as a loop): called by name, or on their own module. Not as any
# object's attribute: np.add.reduce and np.maximum.accumulate are vectorized ufuncs.
LOOP_BUILTINS = {"map", "filter", "reduce", "starmap", "accumulate", "exec", "eval", "compile"}
LOOP_MODULES = {"functools", "itertools", "builtins"}
LOOP_CALLS = LOOP_ATTRIBUTES | LOOP_BUILTINS
# Built-ins that call a function once an item, as map does: sorted/min/max(key=...),
# list.sort(key=...), iter(callable, sentinel).
KEYED_BUILTINS = {"sorted", "min", "max"}


def _loop_lines(tree, modules=frozenset(LOOP_MODULES), helpers=frozenset(LOOP_CALLS),
                builtins=frozenset(KEYED_BUILTINS | {"iter"})):
    """Lines of the loops in `tree`; `modules`: the names LOOP_MODULES go by there;
    `helpers`: the bare names that are loop helpers there, `builtins` the names of
    KEYED_BUILTINS and iter that are the built-ins there (a name the code binds
    itself, a local `accumulate = 0.0`, is neither)."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, LOOP_NODES):
            lines.append(node.lineno)
        elif isinstance(node, (ast.Name, ast.Attribute)) and isinstance(node.ctx, ast.Load) \
                and _loop_helper(node, modules, helpers):
            # Named, not only called: `@np.vectorize`, `partial(map, f)` loop as well.
            lines.append(node.lineno)
        elif isinstance(node, ast.Call) and _calls_per_item(node, builtins):
            lines.append(node.lineno)
    return sorted(set(lines))


def _calls_per_item(call, helpers):
    """True when `call` runs a function once per item (KEYED_BUILTINS with a key, .sort
    with a key, two-argument iter); `helpers`: the built-in names the code reads as such."""
    keyed = any(k.arg == "key" for k in call.keywords)
    if isinstance(call.func, ast.Attribute):
        return keyed and call.func.attr == "sort"
    if isinstance(call.func, ast.Name) and call.func.id in helpers:
        return (keyed and call.func.id in KEYED_BUILTINS) or (
            call.func.id == "iter" and len(call.args) == 2)
    return False


def _loop_helper(expr, modules, helpers=frozenset(LOOP_CALLS)):
    """True when `expr` names a loop helper (LOOP_ATTRIBUTES anywhere; LOOP_BUILTINS by
    one of `helpers` or on one of `modules`)."""
    if isinstance(expr, ast.Name):
        return expr.id in helpers
    if isinstance(expr, ast.Attribute):
        return expr.attr in LOOP_ATTRIBUTES or (
            expr.attr in LOOP_BUILTINS and isinstance(expr.value, ast.Name)
            and expr.value.id in modules)
    return False


# Statements whose bodies run at the top level of a cell: a def under `if` or `try`
# defines a global as one outside does.
_BLOCKS = (ast.If, ast.Try, ast.With, ast.For, ast.While, ast.AsyncWith, ast.AsyncFor)


def _top_statements(body):
    """The statements of a cell that run at its top level, in order, blocks opened."""
    for node in body:
        yield node
        if isinstance(node, _BLOCKS):
            for field in ("body", "orelse", "finalbody"):
                yield from _top_statements(getattr(node, field, []))
            for handler in getattr(node, "handlers", []):
                yield from _top_statements(handler.body)


def _bound(node):
    """Names a top-level statement binds (or deletes) other than by def, class, or a
    plain assignment: imports, loop and `with` targets, tuple targets, del, walrus."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    if isinstance(node, _BLOCKS):   # their own targets only; their bodies come one by one
        parts = [getattr(node, "target", None)] + [i.optional_vars for i in getattr(node, "items", [])]
        parts += [h for h in getattr(node, "handlers", [])]
    else:
        parts = [node]
    names = set()
    for part in parts:
        for n in ast.walk(part) if part is not None else ():
            if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
                names.add(n.id)
            elif isinstance(n, ast.ExceptHandler) and n.name:
                names.add(n.name)
    return names


# The student's text is read here, in the grader's own process: a cell longer than any
# honest one (the longest solution cell of the samples is ~3 KB) is not read, and
# whatever it holds is left to the timing, as code run from text is.
MAX_READ = 64 * 1024
UNREADABLE = (SyntaxError, ValueError, MemoryError, RecursionError)


def _parsed(src):
    """The AST of a student's source, or None: too long to read (MAX_READ), not Python,
    or nested deeper than the parser goes (a MemoryError or RecursionError of the
    parser, never the grader's)."""
    if not isinstance(src, str) or len(src) > MAX_READ:
        return None
    try:
        return ast.parse(textwrap.dedent(src))
    except UNREADABLE:
        return None


def _definitions(sources):
    """({name: what the name holds}, {aliases of loop helpers}, {names of LOOP_MODULES})
    of the student's sources, taken in order, as when the cells run.

    What a name holds: a function or class (`def`, `class`, `name = lambda`), or the
    expression of a plain assignment (`OPS = [_sum]`, `s = _sum`): followed through
    for the functions it names. A later binding of a name replaces an earlier one, by
    anything (`_sum = np.sum` ends the `def _sum` before it).
    `from numpy import vectorize as v` or `v = np.vectorize` makes `v` a loop helper."""
    defs, aliases, modules = {}, set(), set(LOOP_MODULES)
    for src in sources:
        tree = _parsed(src)
        if tree is None:
            continue
        for node in _top_statements(tree.body):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                defs[node.name] = node
                aliases.discard(node.name)
                continue
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = [t.id for t in targets if isinstance(t, ast.Name)]
                helper = _loop_helper(node.value, modules)
                if isinstance(node.value, ast.Name) and node.value.id in modules:
                    modules.update(names)     # it = itertools
                for n in names:
                    defs[n] = node.value
                    (aliases.add if helper else aliases.discard)(n)
                rest = {n for t in targets if not isinstance(t, ast.Name) for n in _bound(t)}
            else:
                rest = _bound(node)
            for n in rest:
                defs.pop(n, None)
                aliases.discard(n)
            if isinstance(node, ast.ImportFrom):
                aliases.update(a.asname or a.name for a in node.names if a.name in LOOP_CALLS)
            elif isinstance(node, ast.Import):
                modules.update(a.asname or a.name for a in node.names if a.name in LOOP_MODULES)
    return defs, aliases, modules


def _global_names(node):
    """Names `node` (a def, class or expression) reads from the cell's globals: not its
    parameters nor its local variables, at any depth of nesting (Python's own scoping,
    by `symtable`). A local `softmax = np.exp(s)` is not the student's `softmax`."""
    try:
        table = symtable.symtable(ast.unparse(node), "<student>", "exec")
    except UNREADABLE:
        return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    names, todo = set(), [(table, True)]
    while todo:
        scope, top = todo.pop()
        names.update(s.get_name() for s in scope.get_symbols()
                     if s.is_referenced() and (top or s.is_global()))
        todo += [(child, False) for child in scope.get_children()]
    return names


def _results_only(node):
    """Names an assigned expression only calls, outside its lambdas (`r = _sum(X)`):
    the name holds a result computed once, at the cell's run, not the function."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
        return set()
    inner = {id(n) for lam in ast.walk(node) if isinstance(lam, ast.Lambda)
             for n in ast.walk(lam)}
    called = {id(n.func) for n in ast.walk(node) if isinstance(n, ast.Call)}
    names = [n for n in ast.walk(node) if isinstance(n, ast.Name) and id(n) not in inner]
    return {n.id for n in names if id(n) in called} - {
        n.id for n in names if id(n) not in called}


def _makes_code(node):
    """True for a class, or a function that defines a function or lambda (a factory):
    calling it makes something that runs the code it holds later."""
    if isinstance(node, ast.ClassDef):
        return True
    return isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
        isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        for n in ast.walk(node) if n is not node)


def _runs(node):
    """The parts of what a name holds that run when it is called: all of a function
    or class; of an assigned expression, only its lambdas and what a loop helper
    makes (`e = np.vectorize(f)`); its comprehensions ran once, at the cell's run."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
        return [node]
    return [n for n in ast.walk(node) if isinstance(n, ast.Lambda)] + [
        n for n in ast.walk(node) if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute) and n.func.attr in LOOP_ATTRIBUTES]


def loops_reached(sources, fn):
    """[(function, line)] of the Python loops in the student's function `fn` and in every
    function, class or assigned value of theirs it names, however indirectly (through
    an alias, a list or dict of functions): loop statements, comprehensions,
    loop helpers (`LOOP_CALLS`, under any alias, called or named), and recursion (a
    function that can reach itself). A loop written in a helper of another cell is a
    loop of `fn` too; a name the function binds itself is its own, not a helper's.
    Lines count from the start of that definition's own source."""
    defs, aliases, modules = _definitions(sources)
    calls, reads = {}, {}
    todo = [fn]
    while todo:
        name = todo.pop()
        if name in calls or name not in defs:
            continue
        # What an assignment only calls holds a result, unless the call makes something
        # that runs later: an instance of their class (its methods), a factory's function.
        reads[name] = _global_names(defs[name]) - {
            n for n in _results_only(defs[name]) if not _makes_code(defs.get(n))}
        # A name in a string is looked up at run time (globals()["_sum"]): followed too.
        said = {n.value for n in ast.walk(defs[name])
                if isinstance(n, ast.Constant) and isinstance(n.value, str)}
        calls[name] = {n for n in reads[name] | said if n in defs}
        todo += calls[name]
    found = []
    recursive = _recursive(calls)
    own = set(defs)
    for name in calls:
        node = defs[name]
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
        # A built-in loop helper's name the student bound to something else (reduce =
        # np.add.reduce, their own def map) is theirs: read as what it holds.
        helpers = ((LOOP_CALLS - (own & LOOP_BUILTINS)) | aliases) & reads[name]
        builtins = (KEYED_BUILTINS | {"iter"}) & reads[name] - own
        for part in _runs(node):
            found += [(name, line - first)
                      for line in _loop_lines(part, modules, helpers, builtins)]
        if isinstance(node, ast.ClassDef):
            found += [(name, m.lineno - first) for m in node.body
                      if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))
                      and m.name in ITERATION_METHODS]
        if name in recursive:
            found.append((name, 1))
    return sorted(set(found))


def _recursive(calls):
    """The names of `calls` ({name: names it calls}) that can call themselves again:
    those on a cycle (Tarjan's strongly connected components, iteratively), in time
    linear in the calls, however many functions a cell defines."""
    index, low, on_stack, stack, found = {}, {}, set(), [], set()
    for root in calls:
        if root in index:
            continue
        work = [(root, iter(calls[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            name, edges = work[-1]
            for nxt in edges:
                if nxt not in calls:
                    continue
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(calls[nxt])))
                    break
                if nxt in on_stack:
                    low[name] = min(low[name], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[name])
                if low[name] == index[name]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == name:
                            break
                    if len(component) > 1 or name in calls[name]:
                        found.update(component)
    return found


SPEED_CALLS = 7
SPEED_MIN_RATIO = 5.0


# Few classes and features, many examples: the vectorized work per example is
# small next to what any Python loop over the examples costs per example, so the
# slowest honest vectorization and the leanest loop are far apart (bench/REPORT.md).
# Both ratios grow with N (the reference's cost per example does: its N lists of floats
# outgrow the caches, and the garbage collector walks them), their quotient hardly (~2x from N = 20 000 on): 20 000 puts the 5x bar halfway
# in log between them (~3.6x and ~7.3x; at 60 000: 4.4x and 8.9x; at 5 000: 3.1x, 5.3x).
SPEED_C, SPEED_D, SPEED_N = 3, 8, 20000


def speed_input(k, seed=None):
    """New arrays for timed call k (X (SPEED_D, SPEED_N) and fresh W and y), so no
    cache can help.

    Unseeded by default: inputs from a seed written in this (public) file could
    be computed offline and their answers pasted into a notebook.
    """
    rng = np.random.default_rng(None if seed is None else [seed, k])
    C, D, N = SPEED_C, SPEED_D, SPEED_N
    X = rng.normal(size=(D, N))
    X[-1] = 1.0
    return (rng.normal(size=(C, D)) * 0.01, X, rng.integers(0, C, size=N), 0.05)


# Hints that say only "the formula is off": a result they name is not known work.
UNNAMED = {None, "loss_formula", "grad_formula", "grad_inconsistent",
           "loss_wrong_grad_consistent", CoreMistake.NOT_ARRAY, "not_float", CoreMistake.SHAPE,
           "nonfinite"}


def speed_verifier(student, fn="softmax_loss_vectorized"):
    """verify(args, outcome) for the timing protocol: raises unless the timed result is
    right, or wrong only by mistakes the loss and gradient tests recognise and charge.

    The speed test judges speed: a vectorization with a catalogued slip (the loss
    summed, the gradient's sign, a floor in the log) still does the whole computation,
    and its mistake is the other tests' to count; so is a result those tests already
    charge with a named cause (a random subset of a large batch, a cache, an integer
    dtype: they fail on the covering set, with their cause). Anything else (a
    constant, W.sum(), even when the naive version returns the same) is not the
    function, so its speed does not count.
    """
    charged = []

    def already_charged():
        if not charged:
            named = False
            for check in (check_softmax_loss_vectorized_loss, check_softmax_loss_vectorized_grad):
                try:
                    check(student)
                except Fail as f:
                    named = named or f.mistake not in UNNAMED
            charged.append(named)
        return charged[0]

    def verify(args, out):
        W, X, y, reg = args
        what = f"{fn} on W {W.shape}, X {X.shape}"
        try:
            loss, dW = _pair(out, what, W.shape)
        except Fail as f:
            raise Fail(f"{f.message}, so its speed does not count", "speed_wrong_result",
                       raised=f.raised)
        if _recognised(loss, dW, args) or already_charged():
            return
        raise Fail(f"{what}: the result is wrong, and not by a mistake the loss and "
                   f"gradient tests name, so its speed does not count", "speed_wrong_result")
    return verify


def _recognised(loss, dW, args, want=None):
    """The loss and dW are each right or a catalogued mistake's: real work, wrongly written.
    `want`: the reference's (loss, dW) on `args`, when already computed.

    Agreeing with the student's own naive version would not do: a naive version and
    a 'vectorized' one returning the same cheap stand-in (a constant, W.sum()) agree
    without computing a softmax loss at all.
    """
    W, X, y, reg = args
    want_loss, want_dW = want or ref.softmax_loss(W, X, y, reg)
    loss_ok = close(loss, want_loss) or mk.diagnose(loss, mk.loss_variants(*args)) is not None
    grad_ok = close(dW, want_dW) or mk.diagnose(dW, mk.grad_variants(*args)) is not None
    return loss_ok and grad_ok


@REGISTRY.check("test_softmax_loss_vectorized_speed", target="softmax_loss_vectorized",
                timed=True)
def check_softmax_loss_vectorized_speed(student, timer):
    """softmax_loss_vectorized runs no Python loop its code shows and is >= 5x faster than a loop over examples, on a result that is right or wrong only by a mistake the loss and gradient tests name.

    `loops_reached`: a loop in the function or in a function of the student's it names
    fails at once. Then `autograder.check.timing.compare`: the reference loop and the
    student's function timed alternately on fresh inputs (N = SPEED_N), the median of
    the per-call ratios decides (of more calls when it lands near the bar).
    """
    fn = "softmax_loss_vectorized"
    # The exercise asks for no Python loop at all. A loop the code shows fails here,
    # before any timing: the leanest loops (only float additions per example) cost less
    # than honest vectorized code varies by, so no bar could tell them apart. A loop it
    # hides (text run by exec, an attribute looked up at run time) is left to the timing.
    loops = loops_reached(student.all_sources(), fn)
    if loops:
        by_function = {}
        for name, line in loops:
            by_function.setdefault(name, []).append(str(line))
        where = "; ".join(f"{name}{'' if name == fn else ', which it calls'}, line"
                          f"{'s' if len(lines) > 1 else ''} {', '.join(lines[:5])}"
                          for name, lines in list(by_function.items())[:3])
        raise Fail(f"{fn} runs a Python loop ({where}): the exercise asks for none, so its "
                   "speed does not count", "loop_in_vectorized")
    result = timing.compare(student, timer, fn=fn, make_input=speed_input,
                            verify=speed_verifier(student, fn),
                            min_ratio=SPEED_MIN_RATIO, calls=SPEED_CALLS)
    if not result.passed:
        # No loop its code shows (that failed above): slow work, or a loop it hides.
        raise Fail(f"{fn} is only {result.ratio:.1f}x faster than a loop over examples "
                   f"(needs {SPEED_MIN_RATIO:g}x)", "too_slow")
    return f"{result.ratio:.0f}x faster than a loop over examples (needs {SPEED_MIN_RATIO:g}x)"

"""The hidden tests of the softmax assignment: one registered check per graded test cell.

Each check is declared once, with the test cell it grades (`test_id`), the
solution cell it calls (`target`) and, as its docstring's first line, what it
proves. `contract.md` maps every promise of the notebook to the check that
enforces it and says which tests depend on which.

Each check judges one property, so one mistake costs the tests of the
property it breaks: the loss checks judge the loss, the gradient checks dW,
the stability check the invariance of the student's OWN result under a
shift of the scores (a result that is right or a recognised mistake's), the speed check the speed of a result that is right or
equal to the student's own naive version. A failure names the property in
its message and, in `mistake`, the cause (see `mistakes.py`).
"""
import ast

import numpy as np

from ... import timing
from ...checking import (Fail, Outcome, Registry, as_array, close, nonfinite, rel_error,
                         require_ok, unmodified)
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
        raise Fail(f"{what} returned a {kind}, not a number", "not_array")
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
        raise Fail(f"{what} must return a pair (loss, dW)", "not_array")
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


def shifted_cases(seed=15):
    """(label, W, W_shifted, X, y): the scores of W_shifted are those of W plus a
    shift common to the classes of each example, so softmax and the loss do not change.

    reg = 0 throughout: the shift changes W, and with it any penalty on W.
    "every score" shifts every example alike (a large bias); "per example"
    shifts each example by its own amount (-3000 to +3000), which one maximum
    for the whole batch cannot absorb.
    """
    rng = np.random.default_rng(seed)
    C, D, N = NOTEBOOK_C, NOTEBOOK_D, 50
    W = rng.normal(size=(C, D)) * 0.01
    X = rng.normal(size=(D, N))
    X[-1] = 1.0
    y = rng.integers(0, C, size=N)
    cases = []
    for offset in (1e3, -1e3, 1e4):
        Ws = W.copy()
        Ws[:, -1] += offset             # the same bias for every class: every score + offset
        cases.append((f"every score is shifted by {offset:+.0f}", W, Ws, X, y))
    Ws = W.copy()
    Ws[:, 0] += 1000.0                  # example i moves by 1000 * X[0, i]
    cases.append(("each example's scores are shifted by its own large amount", W, Ws, X, y))
    return cases


SPREAD = 720.0


def spread_case(seed=18):
    """(W, X, y, reg): one class scores 720 below the others and is nobody's label.

    exp(-720) is tiny but not 0 in float64 (it underflows only past ~745), so
    every correct style stays finite, including sum(Y * log(P)) with one-hot
    matrices; every label's probability stays ordinary, so -log(p + 1e-7) is
    as right as log-sum-exp. Shifting by anything but the maximum overflows:
    exp(720) is inf (float64 overflows past ~709.8).
    """
    rng = np.random.default_rng(seed)
    C, D, N = NOTEBOOK_C, NOTEBOOK_D, 30
    W = rng.normal(size=(C, D)) * 0.01
    W[3, -1] -= SPREAD
    X = rng.normal(size=(D, N))
    X[-1] = 1.0
    y = rng.choice([c for c in range(C) if c != 3], size=N)
    return W, X, y, 0.0


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


class _Failures:
    """The failing inputs of one check; `raise_first` names the first one's cause."""

    def __init__(self, sizes, *, batch_mistake=None, fallback=None):
        self.sizes, self.batch_mistake, self.fallback = sizes, batch_mistake, fallback
        self.items = []                 # (index, message, mistake or None, error or "")
        self.by_value = set()           # items whose mistake was read from a wrong value

    def add(self, i, message, mistake=None, error="", value=False):
        self.items.append((i, message, mistake, error))
        if value:
            self.by_value.add(len(self.items) - 1)

    def raise_first(self):
        if not self.items:
            return
        i, message, mistake, error = self.items[0]
        failed = {j for j, *_ in self.items}
        if 0 in self.by_value and \
                any(self.items[k][2] != mistake for k in self.by_value):
            # Inputs disagree: a batch of one can make two mistakes coincide (a sum
            # over the batch of one row is that row). The largest batch decides.
            k = max(self.by_value, key=lambda k: self.sizes[self.items[k][0]][0])
            mistake = self.items[k][2]
        if mistake is None and error:
            mistake = mk.from_error(error, batch=self.sizes[i][0] > 1)
            singles = [j for j, s in enumerate(self.sizes) if s[0] == 1]
            if mistake == "missing_keepdims" and any(j in failed for j in singles):
                mistake = None
        if mistake is None:
            mistake = _shape_pattern(self.sizes, failed, i, self.batch_mistake)
        raise Fail(message, mistake or self.fallback)


def _raised(out):
    return out.error if not out.ok else ""


# ------------------------------------------------------------ Part 1


def softmax_inputs(rng):
    """Scores (C,), (1, C), (N, C) for C = 3 and 10, and a square batch."""
    xs = []
    for C in (3, 10):
        xs += [_scores(rng, C), _scores(rng, 1, C), _scores(rng, 6, C)]
    xs.append(_scores(rng, 4, 4))       # N == C: a missing keepdims pairs the wrong entries
    return xs


def softmax_stable_inputs(rng):
    """(x, label, per_row): huge scores, a common offset on every row (a big bias), one
    offset per row, and scores 1000 apart within a row."""
    stable = [(_scores(rng, 4, 10, scale=1.0) + off, f"scores around {off:+.0f}", False)
              for off in (1e3, -1e3, 1e5)]
    stable.append((_scores(rng, 10, scale=1.0) + 800.0, "1-D scores around +800", False))
    rows = _scores(rng, 4, 10, scale=1.0) + np.array([[1e3], [-1e3], [0.0], [300.0]])
    stable.append((rows, "rows of very different sizes (-1000 to +1000)", True))
    spread = _scores(rng, 3, 10, scale=1.0)
    spread[:, 2] -= 1000.0
    spread[1, 5] += 1000.0
    stable.append((spread, "scores 1000 apart within a row", False))
    return stable


@REGISTRY.check("test_softmax", target="softmax")
def check_softmax(student):
    """softmax gives the right probabilities over the last axis for 1-D and 2-D scores, in float64, also when scores are huge (one maximum per row), and leaves x unchanged."""
    rng = np.random.default_rng(11)
    xs = softmax_inputs(rng)
    sizes = [(x.shape[0] if x.ndim == 2 else 1, x.shape[-1], None) for x in xs]
    fails = _Failures(sizes, batch_mistake="whole_sum", fallback="softmax_formula")
    for i, (x, out) in enumerate(zip(xs, student.call("softmax", [(x,) for x in xs]))):
        what = f"softmax(x) for x of shape {x.shape}"
        if not out.ok:
            fails.add(i, f"{what} raised {out.error}", error=out.error)
            continue
        got = as_array(out, what, x.shape)
        if not close(got, ref.softmax(x)):
            fails.add(i, f"{what} is wrong",
                      mk.named(mk.diagnose(got, mk.softmax_variants(x)), mk.SOFTMAX_ALIASES),
                      value=True)
        elif mk.is_float32(got):
            fails.add(i, f"{what} is computed in float32", "float32")
        else:
            unmodified(out, what)
    fails.raise_first()
    for x, label, per_row in softmax_stable_inputs(rng):
        (out,) = student.call("softmax", [(x,)])
        what = f"softmax(x) for {label}"
        if not out.ok:
            raise Fail(f"{what} raised {out.error}", mk.from_error(out.error))
        got = as_array(out, what, x.shape)
        if nonfinite(got):
            raise Fail(f"{what} gave nan or inf",
                       "global_max" if per_row else "no_max_subtraction")
        if not close(got, ref.softmax(x)):
            mistake = mk.named(mk.diagnose(got, mk.softmax_variants(x)), mk.SOFTMAX_ALIASES)
            raise Fail(f"{what} is wrong", mistake or
                       ("global_max" if per_row else "no_max_subtraction"))


@REGISTRY.check("test_softmax_backward", target="softmax_backward")
def check_softmax_backward(student):
    """softmax_backward returns y * (dout - sum(dout * y)) per example (the numerical gradient of sum(dout * softmax(x))) for 1-D and 2-D inputs, in float64, leaving its inputs unchanged."""
    rng = np.random.default_rng(12)
    cases = []
    for shape in ((3,), (10,), (1, 4), (5, 10), (4, 4)):
        y = ref.softmax(_scores(rng, *shape))
        cases.append((rng.normal(size=shape), y))
    sizes = [(y.shape[0] if y.ndim == 2 else 1, y.shape[-1], None) for _, y in cases]
    fails = _Failures(sizes, batch_mistake="backward_whole_sum", fallback="backward_formula")
    for i, ((dout, y), out) in enumerate(zip(cases, student.call("softmax_backward", cases))):
        what = f"softmax_backward(dout, y) for shape {y.shape}"
        if not out.ok:
            fails.add(i, f"{what} raised {out.error}", error=out.error)
            continue
        got = as_array(out, what, y.shape)
        want = ref.softmax_backward(dout, y)
        if not close(got, want, BACKWARD_RTOL, BACKWARD_ATOL):
            if close(got, ref.softmax_backward(mk.as32(dout), mk.as32(y)), 1e-9, 1e-12) or \
                    close(got, ref.softmax_backward(mk.as32(dout), y), 1e-9, 1e-12):
                fails.add(i, f"{what} is computed in float32", "float32")
                continue
            fails.add(i, f"{what} does not match the numerical gradient",
                      mk.named(mk.diagnose(got, mk.softmax_backward_variants(dout, y)),
                               mk.BACKWARD_ALIASES), value=True)
        elif mk.is_float32(got):
            fails.add(i, f"{what} is computed in float32", "float32")
        else:
            unmodified(out, what)
    fails.raise_first()


# ------------------------------------------------------------ Part 2


def _ce_cases(rng):
    """(y, t, label kind) over one-hot, integer and scalar labels, 1-D and 2-D y."""
    cases = []
    for N, C in ((5, 3), (8, 10)):
        y = ref.softmax(_scores(rng, N, C, scale=1.0))
        lab = rng.integers(0, C, size=N)
        cases += [(y, _onehot(lab, C), "one-hot"), (y, lab, "integer")]
    for C, label in ((3, 1), (10, 4)):
        y1 = ref.softmax(_scores(rng, C, scale=1.0))
        cases += [(y1, _onehot([label], C)[0], "one-hot (1-D)"),
                  (y1, np.int64(label), "a scalar integer")]
    return cases


def _ce_index_error(error, y, student=None):
    """After an IndexError: labels off by one, or indices in the wrong order.

    With the student at hand, calls cross_entropy_error on N = 3 < C = 10
    examples whose labels are all below C - 1: indices in the wrong order
    still fail there, labels off by one give a value.
    """
    if "IndexError" not in error:
        return None
    if student is not None:
        rng = np.random.default_rng(20)
        yy = ref.softmax(_scores(rng, 3, 10, scale=1.0))
        t = np.array([0, 8, 5])
        (out,) = student.call("cross_entropy_error", [(yy, t)])
        if not out.ok:
            return "index_order"
        try:
            got = _scalar(out.value, "cross_entropy_error")
        except Fail:
            return None
        if close(got, ref.cross_entropy_error(yy, t), CE_RTOL, CE_ATOL):
            return "onehot_labels"      # integer labels work: the one-hot path fails
        return "label_offset"
    C = np.shape(y)[-1]
    if f"index {C} is out of bounds" in error:
        return "label_offset"
    return None


@REGISTRY.check("test_cross_entropy_error", target="cross_entropy_error")
def check_cross_entropy_error(student):
    """cross_entropy_error returns one float, the batch mean of -log(y[label] + 1e-7), for one-hot, integer and scalar labels, also when y[label] is exactly 0."""
    rng = np.random.default_rng(13)
    cases = _ce_cases(rng)
    sizes = [(np.atleast_2d(y).shape[0], y.shape[-1], None) for y, _, _ in cases]
    fails = _Failures(sizes, fallback="ce_formula")
    outs = student.call("cross_entropy_error", [(y, t) for y, t, _ in cases])
    onehot_ok = True
    for i, ((y, t, kind), out) in enumerate(zip(cases, outs)):
        what = f"cross_entropy_error(y, t) with y of shape {y.shape} and {kind} labels"
        labels = kind != "one-hot" and kind != "one-hot (1-D)"
        if not out.ok:
            mistake = mk.from_error(out.error, batch=False) or \
                _ce_index_error(out.error, y, student)
            if mistake is None and labels and onehot_ok:
                mistake = "int_labels"
            fails.add(i, f"{what} raised {out.error}", mistake)
            continue
        got = _scalar(out.value, what)
        want = ref.cross_entropy_error(y, t)
        if not close(got, want, CE_RTOL, CE_ATOL):
            mistake = mk.named(mk.diagnose(got, mk.cross_entropy_variants(y, t), 1e-7, 1e-9),
                               mk.CE_ALIASES)
            if mistake is None and labels and onehot_ok:
                mistake = "int_labels"
            fails.add(i, f"{what} is wrong", mistake, value=True)
        elif mk.is_float32(got):
            fails.add(i, f"{what} is computed in float32", "float32")
        else:
            unmodified(out, what)
        if not labels and fails.items:
            onehot_ok = False
    failed = {j for j, *_ in fails.items}
    if fails.items and fails.items[0][2] is None and all(
            j not in failed for j, (_, _, kind) in enumerate(cases) if "integer" in kind):
        fails.fallback = "onehot_labels"    # integer labels right, one-hot ones wrong
    fails.raise_first()
    # Probabilities of exactly 0: at the true class (the 1e-7 delta) and elsewhere.
    y = np.array([[0.01, 0.99, 0.0], [0.3, 0.2, 0.5]])
    zero_cases = [(y, np.array([2, 0]), "the true class has probability exactly 0"),
                  (y, _onehot([2, 0], 3), "the true class has probability exactly 0 "
                                          "(one-hot labels)"),
                  (y, _onehot([1, 0], 3), "another class has probability exactly 0")]
    outs = student.call("cross_entropy_error", [(y, t) for y, t, _ in zero_cases])
    for (y, t, label), out in zip(zero_cases, outs):
        what = f"cross_entropy_error(y, t) when {label}"
        require_ok(out, what)
        got = _scalar(out.value, what)
        if nonfinite(got):
            raise Fail(f"{what} gave nan or inf", "no_delta")
        if not close(got, ref.cross_entropy_error(y, t), CE_RTOL, CE_ATOL):
            mistake = mk.named(mk.diagnose(got, mk.cross_entropy_variants(y, t), 1e-7, 1e-9),
                               mk.CE_ALIASES)
            raise Fail(f"{what} is wrong", mistake or "delta_value")


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


def _layer_cases(rng):
    """(x, t, kind, dout): both label formats, N = 1 and a batch, a 1-D x, dout 1 and not."""
    cases = []
    for N, C in ((1, 3), (6, 10), (4, 3)):
        x = _scores(rng, N, C, scale=1.5)
        lab = rng.integers(0, C, size=N)
        for kind, t in (("one-hot", _onehot(lab, C)), ("integer", lab)):
            for dout in (1, 2.5):
                cases.append((x, t, kind, dout))
    for C, label in ((3, 2), (10, 3)):
        x1 = _scores(rng, C, scale=1.5)
        cases += [(x1, _onehot([label], C)[0], "one-hot (1-D)", 1),
                  (x1, _onehot([label], C)[0], "one-hot (1-D)", 2.5)]
    return cases


@REGISTRY.check("test_SoftmaxWithLoss", target="SoftmaxWithLoss",
                uses=("softmax", "cross_entropy_error"))
def check_SoftmaxWithLoss(student):
    """SoftmaxWithLoss.forward returns the loss as a float and stores y = softmax(x); backward(dout) returns (y - t) * dout / N for both label formats and a 1-D x, leaves the stored state unchanged and follows the latest forward."""
    rng = np.random.default_rng(14)
    cases = _layer_cases(rng)
    sizes = [(np.atleast_2d(x).shape[0], x.shape[-1], None) for x, *_ in cases]
    fails = _Failures(sizes, fallback="layer_formula")
    onehot_ok = True
    for i, (x, t, kind, dout) in enumerate(cases):
        call = "backward()" if dout == 1 else f"backward({dout})"
        steps = [("forward", (x, t)), ("backward", () if dout == 1 else (dout,))]
        outs = student.layer("SoftmaxWithLoss", steps)
        what = f"SoftmaxWithLoss with x of shape {x.shape} and {kind} labels"
        labels = kind == "integer"
        if not outs[0].ok:
            mistake = mk.from_error(outs[0].error, batch=False) or (
                "int_labels" if labels and onehot_ok else _upstream(student, x, t))
            fails.add(i, f"{what}: forward raised {outs[0].error}", mistake, outs[0].error)
            continue
        loss = _scalar(outs[0].value, what + ": forward")
        want = ref.cross_entropy_error(ref.softmax(x), t)
        if not close(loss, want, CE_RTOL, CE_ATOL):
            mistake = _upstream(student, x, t) or mk.named(
                mk.diagnose(loss, mk.cross_entropy_variants(ref.softmax(x), t), 1e-7, 1e-9),
                mk.CE_ALIASES)
            if mistake is None and labels and onehot_ok:
                mistake = "int_labels"
            fails.add(i, f"{what}: forward returned a wrong loss", mistake, value=True)
            continue
        if len(outs) < 2:
            fails.add(i, f"{what}: {call} was not reached")
            continue
        if not outs[1].ok:
            err = outs[1].error
            mistake = mk.from_error(err, batch=False) or _ce_index_error(err, x) or \
                mk.index_error(err, n=np.atleast_2d(x).shape[0], c=x.shape[-1])
            if mistake is None and ("NoneType" in err or "AttributeError" in err):
                mistake = "not_stored"
            if mistake is None and labels and onehot_ok:
                mistake = "int_labels"
            fails.add(i, f"{what}: {call} raised {err}", mistake, err)
            continue
        got = as_array(outs[1], f"{what}: {call}", x.shape)
        layer = ref.SoftmaxWithLoss()
        layer.forward(x, t)
        if not close(got, layer.backward(dout)):
            variants = {**mk.layer_backward_variants(x, t, dout),
                        **mk.label_variants_layer(x, t, dout)}
            mistake = mk.named(mk.diagnose(got, variants), mk.LAYER_ALIASES) or \
                _upstream(student, x, t)
            if mistake is None and labels and onehot_ok:
                mistake = "int_labels"
            fails.add(i, f"{what}: {call} is wrong", mistake, value=True)
        elif mk.is_float32(got) or mk.is_float32(loss):
            fails.add(i, f"{what}: computed in float32", "float32")
        if not labels and fails.items:
            onehot_ok = False
    if fails.items and fails.items[0][2] is None and _not_stored(student):
        fails.fallback = "not_stored"
    fails.raise_first()
    _check_layer_state(student, rng)


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
    for name, out in zip(names, outs):
        if not out.ok:
            mistake = "not_stored" if "self." in name else "layer_state"
            raise Fail(f"{what}: {name} raised {out.error}", mistake)
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
            raise Fail(f.message, "layer_state")
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
    return [(X.shape[1], W.shape[0], W.shape[1]) for W, X, y, reg in cases]


def _large_cases():
    """Naive-version inputs with huge scores, as the notebook's visible check has."""
    return [(Ws, X, y, 0.0) for _, _, Ws, X, y in shifted_cases(seed=17)[:2]] + \
        [spread_case()]


def _answered(student, fn, fails):
    """(i, (W, X, y, reg), outcome, what) for each classifier case the student's `fn`
    answered; a case where it raised goes to `fails`, with what the error points at."""
    cases = classifier_cases()
    outs = student.call(fn, [tuple(c) for c in cases])
    for i, ((W, X, y, reg), out) in enumerate(zip(cases, outs)):
        what = f"{fn} with W {W.shape}, X {X.shape}, reg={reg:g}"
        if out.ok:
            yield i, (W, X, y, reg), out, what
        else:
            fails.add(i, f"{what} raised {out.error}",
                      _index_probe(student, fn, out.error), out.error)


def _check_loss(student, fn, large=False):
    fails = _Failures(_sizes(classifier_cases()), fallback="loss_formula")
    for i, (W, X, y, reg), out, what in _answered(student, fn, fails):
        loss, _ = _pair(out, what)
        want = ref.softmax_loss(W, X, y, reg)[0]
        if not close(loss, want):
            if nonfinite(loss):
                # Ordinary scores cannot overflow: nan here is the formula's.
                fails.add(i, f"{what}: the loss is nan or inf")
                continue
            # Never by how much: a distance from the expected loss, with the
            # student's own value, gives the hidden expected loss back.
            fails.add(i, f"{what}: the loss is wrong",
                      mk.named(mk.diagnose(loss, mk.loss_variants(W, X, y, reg)),
                               mk.LOSS_ALIASES), value=True)
        elif mk.is_float32(loss) or mk.float32_input(
                loss, want, ref.softmax_loss(mk.as32(W), X, y, reg)[0]):
            fails.add(i, f"{what}: the loss is computed in float32", "float32")
        else:
            unmodified(out, what)
    fails.raise_first()
    if not large:
        return
    for W, X, y, reg in _large_cases():
        (out,) = student.call(fn, [(W, X, y, reg)])
        what = f"{fn} when the scores are huge (a bias of {W[0, -1]:+.0f})"
        loss, _ = _pair(out, what)
        if nonfinite(loss):
            raise Fail(f"{what}: the loss is nan or inf", "no_max_subtraction")
        if not close(loss, ref.softmax_loss(W, X, y, reg)[0]):
            raise Fail(f"{what}: the loss is wrong", "no_max_subtraction")


def _check_grad(student, fn):
    fails = _Failures(_sizes(classifier_cases()), fallback="grad_formula")
    for i, (W, X, y, reg), out, what in _answered(student, fn, fails):
        _, dW = _pair(out, what, W.shape)
        want = ref.softmax_loss(W, X, y, reg)[1]
        if not close(dW, want):
            fails.add(i, f"{what}: dW is wrong",
                      mk.named(mk.diagnose(dW, mk.grad_variants(W, X, y, reg)),
                               mk.LOSS_ALIASES), value=True)
        elif mk.is_float32(dW) or mk.float32_input(
                dW, want, ref.softmax_loss(mk.as32(W), X, y, reg)[1]):
            fails.add(i, f"{what}: dW is computed in float32", "float32")
    if fails.items and fails.items[0][2] is None and not fails.items[0][3]:
        i = fails.items[0][0]
        if _shape_pattern(fails.sizes, {j for j, *_ in fails.items}, i) is None:
            fails.fallback = _consistency_hint(student, fn)
    fails.raise_first()


def _index_probe(student, fn, error):
    """Which index is wrong, after an IndexError: calls fn on N = 5 < C = 10 examples
    whose labels are all below C - 1. Indices in the wrong order still fail there
    (the examples' axis is the short one); labels off by one give a value."""
    if "IndexError" not in error:
        return None
    rng = np.random.default_rng(19)
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
    _check_loss(student, "softmax_loss_naive", large=True)


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
    """softmax_loss_vectorized's own result (loss and dW, right or wrong only by a recognised mistake) stays finite and unchanged when the scores get a huge shift common to the classes of an example (one maximum per example), and finite when one example's scores are 720 apart."""
    fn = "softmax_loss_vectorized"
    cases = shifted_cases()
    W, X, y = cases[0][1], cases[0][3], cases[0][4]
    (base,) = student.call(fn, [(W, X, y, 0.0)])
    what = f"{fn} (for its stability)"
    try:
        loss0, dW0 = _pair(base, what, W.shape)
    except Fail as f:
        raise Fail(f"{f.message} on ordinary scores", f.mistake or "stability_broken")
    if nonfinite(loss0) or nonfinite(dW0):
        raise Fail(f"{what}: the result has nan or inf even for ordinary scores",
                   "stability_broken")
    if not _recognised(loss0, dW0, (W, X, y, 0.0)):
        # Invariance of a result that is no softmax loss (a constant, zeros) shows
        # nothing: like speed, stability counts only for real work.
        raise Fail(f"{what}: the result on ordinary scores is wrong, and not by a mistake "
                   "the loss and gradient tests name, so its stability does not count",
                   "stability_broken")
    right = ref.softmax_loss(W, X, y, 0.0)
    # When the result is already wrong on ordinary scores, a nan under a shift
    # may come from that mistake: the hint then names both, and claims neither.
    wrong_already = not (close(loss0, right[0]) and close(dW0, right[1]))
    outs = student.call(fn, [(Ws, X, y, 0.0) for _, _, Ws, _, _ in cases])
    for (label, _, Ws, _, _), out in zip(cases, outs):
        what = f"{fn} when {label}"
        per_example = "own" in label
        if not out.ok:
            raise Fail(f"{what}: it raised {out.error}",
                       mk.from_error(out.error) or "stability_broken")
        loss, dW = _pair(out, what, Ws.shape)
        if nonfinite(loss) or nonfinite(dW):
            raise Fail(f"{what}: the result has nan or inf", "stability_formula"
                       if wrong_already else "global_max" if per_example
                       else "no_max_subtraction")
        if not (close(loss, loss0) and close(dW, dW0)):
            raise Fail(f"{what}: the result is wrong (it changed, and softmax does not "
                       f"change under such a shift)", _unstable_cause(loss, dW, Ws, X, y, (loss0, dW0))
                       or ("global_max" if per_example else "no_max_subtraction"))
    W, X, y, reg = spread_case()
    (out,) = student.call(fn, [(W, X, y, reg)])
    what = f"{fn} when one class scores {SPREAD:.0f} below the others"
    if not out.ok:
        raise Fail(f"{what}: it raised {out.error}", mk.from_error(out.error))
    loss, dW = _pair(out, what, W.shape)
    if nonfinite(loss) or nonfinite(dW):
        raise Fail(f"{what}: the result has nan or inf",
                   "stability_formula" if wrong_already else "no_max_subtraction")


# ------------------------------------------------------------ speed

LOOP_NODES = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp,
              ast.GeneratorExp)
LOOP_CALLS = {"vectorize", "apply_along_axis", "apply_over_axes", "frompyfunc", "map",
              "softmax_loss_naive"}


def find_loops(source):
    """Line numbers of Python loops (or loop helpers) in a cell's code."""
    try:
        tree = ast.parse(source or "")
    except SyntaxError:
        return []
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, LOOP_NODES):
            lines.append(node.lineno)
        elif isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", None)
            if name in LOOP_CALLS:
                lines.append(node.lineno)
    return sorted(set(lines))


SPEED_CALLS = 7
SPEED_MIN_RATIO = 5.0


# Few classes and features, many examples: the vectorized work per example is
# small next to what any Python loop over the examples costs per example, so the
# slowest honest vectorization and the leanest loop are far apart (bench/REPORT.md).
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


def speed_verifier(student, fn="softmax_loss_vectorized"):
    """verify(args, outcome) for the timing protocol: raises unless the timed result is
    right, or wrong only by mistakes the loss and gradient tests recognise and charge.

    The speed test judges speed: a vectorization with a catalogued slip (the loss
    summed, the gradient's sign) still does the whole computation, and its mistake is
    the other tests' to count. Anything else (a constant, W.sum(), even when the
    naive version returns the same) is not the function, so its speed does not count.
    `student` is unused: the verdict needs only the result.
    """
    def verify(args, out):
        W, X, y, reg = args
        what = f"{fn} on W {W.shape}, X {X.shape}"
        try:
            loss, dW = _pair(out, what, W.shape)
        except Fail as f:
            raise Fail(f"{f.message}, so its speed does not count", "speed_wrong_result")
        if _recognised(loss, dW, args):
            return
        raise Fail(f"{what}: the result is wrong, and not by a mistake the loss and "
                   f"gradient tests name, so its speed does not count", "speed_wrong_result")
    return verify


def _recognised(loss, dW, args):
    """The loss and dW are each right or a catalogued mistake's: real work, wrongly written.

    Agreeing with the student's own naive version would not do: a naive version and
    a 'vectorized' one returning the same cheap stand-in (a constant, W.sum()) agree
    without computing a softmax loss at all.
    """
    W, X, y, reg = args
    want_loss, want_dW = ref.softmax_loss(W, X, y, reg)
    loss_ok = close(loss, want_loss) or mk.diagnose(loss, mk.loss_variants(*args)) is not None
    grad_ok = close(dW, want_dW) or mk.diagnose(dW, mk.grad_variants(*args)) is not None
    return loss_ok and grad_ok


@REGISTRY.check("test_softmax_loss_vectorized_speed", target="softmax_loss_vectorized",
                timed=True)
def check_softmax_loss_vectorized_speed(student, timer):
    """softmax_loss_vectorized is >= 5x faster than a loop over examples, on a result that is right or equal to the student's own naive version.

    `autograder.timing.compare`: the reference loop and the student's function
    timed alternately on fresh inputs (N = 2000), the median of the per-call
    ratios decides. Reading the code for loops only chooses the hint.
    """
    fn = "softmax_loss_vectorized"
    result = timing.compare(student, timer, fn=fn, make_input=speed_input,
                            verify=speed_verifier(student, fn),
                            min_ratio=SPEED_MIN_RATIO, calls=SPEED_CALLS)
    if not result.passed:
        lines = find_loops(student.cell_source(fn))
        where = f" (it has a Python loop, cell line {', '.join(map(str, lines))})" if lines else ""
        raise Fail(f"{fn} is only {result.ratio:.1f}x faster than a loop over examples "
                   f"(needs {SPEED_MIN_RATIO:g}x){where}",
                   "loop_in_vectorized" if lines else "too_slow")
    return f"{result.ratio:.0f}x faster than a loop over examples (needs {SPEED_MIN_RATIO:g}x)"

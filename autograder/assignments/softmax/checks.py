"""The hidden tests of the softmax assignment: one registered check per graded test cell.

Each check is declared once, with the test cell it grades (`test_id`), the
solution cell it calls (`target`) and, as its docstring's first line, what it
proves. See `contract.md` for the promises of the notebook each check enforces.
"""
import ast

import numpy as np

from ...checking import (ATOL, RTOL, Fail, Outcome, Registry, as_array, as_scalar, close,
                         nonfinite, rel_error, require_ok, unmodified)
from . import mistakes as mk
from . import reference as ref

REGISTRY = Registry()

# cross_entropy_error's 1e-7 delta moves a loss by up to ~1e-5: a solution
# written without it (log-sum-exp, say) is still right.
CE_RTOL, CE_ATOL = 1e-4, 1e-4

# Old private names, kept short inside this module.
_require_ok, _array, _scalar, _unmodified, _close, _nonfinite = (
    require_ok, as_array, as_scalar, unmodified, close, nonfinite)


def _shape_str(*arrays):
    return ", ".join(f"{np.shape(a)}" for a in arrays)


def _pair(out, what, dw_shape):
    """(loss, dW) from a softmax_loss_* outcome."""
    _require_ok(out, what)
    v = out.value
    if not isinstance(v, list) or len(v) != 2:
        raise Fail(f"{what} must return a pair (loss, dW)", "not_array")
    loss = _scalar(v[0], what + " loss")
    dW = _array(Outcome(True, v[1]), what + " dW", dw_shape)
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
    for C, D in ((3, 5), (10, 65)):
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


# ------------------------------------------------------------ Part 1


@REGISTRY.check("test_softmax", target="softmax")
def check_softmax(student):
    """softmax gives the right probabilities over the last axis for 1-D and 2-D scores, also when scores are huge, and leaves x unchanged."""
    rng = np.random.default_rng(11)
    xs = []
    for C in (3, 10):
        xs.append(_scores(rng, C))
        xs += [_scores(rng, 1, C), _scores(rng, 6, C)]
    for x, out in zip(xs, student.call("softmax", [(x,) for x in xs])):
        what = f"softmax(x) for x of shape {x.shape}"
        got = _array(out, what, x.shape)
        if not _close(got, ref.softmax(x)):
            raise Fail(f"{what} is wrong", mk.diagnose(got, mk.softmax_variants(x)))
        _unmodified(out, what)
    # Scores with a large common offset, as a big bias gives.
    stable = [_scores(rng, 4, 10, scale=1.0) + off for off in (1e3, -1e3, 1e5)]
    stable.append(_scores(rng, 10, scale=1.0) + 800.0)
    for x, out in zip(stable, student.call("softmax", [(x,) for x in stable])):
        what = f"softmax(x) for scores around {x.mean():.0f}"
        got = _array(out, what, x.shape)
        if _nonfinite(got):
            raise Fail(f"{what} gave nan or inf", "no_max_subtraction")
        if not _close(got, ref.softmax(x)):
            raise Fail(f"{what} is wrong", mk.diagnose(got, mk.softmax_variants(x)))


@REGISTRY.check("test_softmax_backward", target="softmax_backward")
def check_softmax_backward(student):
    """softmax_backward equals the numerical gradient of sum(dout * softmax(x)) for 1-D and 2-D inputs."""
    rng = np.random.default_rng(12)
    cases = []
    for shape in ((3,), (10,), (1, 4), (5, 10)):
        y = ref.softmax(_scores(rng, *shape))
        dout = rng.normal(size=shape)
        cases.append((dout, y))
    outs = student.call("softmax_backward", cases)
    for (dout, y), out in zip(cases, outs):
        what = f"softmax_backward(dout, y) for shape {y.shape}"
        got = _array(out, what, y.shape)
        # The truth is the numerical gradient of sum(dout * softmax(x)).
        x = np.log(y)
        num = _numerical_gradient(lambda v: float(np.sum(dout * ref.softmax(v))), x)
        if not (_close(got, ref.softmax_backward(dout, y)) and rel_error(got, num) < 1e-6):
            raise Fail(f"{what} does not match the numerical gradient "
                       f"(relative error {rel_error(got, num):.1e})",
                       mk.diagnose(got, mk.softmax_backward_variants(dout, y)))
        _unmodified(out, what)


def _numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        fp = f(x)
        x[i] = old - h
        fm = f(x)
        x[i] = old
        grad[i] = (fp - fm) / (2 * h)
    return grad


# ------------------------------------------------------------ Part 2


@REGISTRY.check("test_cross_entropy_error", target="cross_entropy_error")
def check_cross_entropy_error(student):
    """cross_entropy_error is the batch mean of -log(y[label] + 1e-7) for one-hot, integer and scalar labels."""
    rng = np.random.default_rng(13)
    cases, labels_kind = [], []
    for N, C in ((5, 3), (8, 10)):
        y = ref.softmax(_scores(rng, N, C, scale=1.0))
        lab = rng.integers(0, C, size=N)
        cases += [(y, _onehot(lab, C)), (y, lab)]
        labels_kind += ["one-hot", "integer"]
    y1 = ref.softmax(_scores(rng, 10, scale=1.0))
    cases += [(y1, _onehot([4], 10)[0]), (y1, np.int64(4))]
    labels_kind += ["one-hot (1-D)", "a scalar integer"]
    outs = student.call("cross_entropy_error", cases)
    onehot_ok = True
    for (y, t), kind, out in zip(cases, labels_kind, outs):
        what = f"cross_entropy_error(y, t) with y of shape {y.shape} and {kind} labels"
        if not out.ok and kind != "one-hot" and onehot_ok:
            raise Fail(f"{what} raised {out.error}", "int_labels")
        _require_ok(out, what)
        got = _scalar(out.value, what)
        want = ref.cross_entropy_error(y, t)
        if not _close(got, want, CE_RTOL, CE_ATOL):
            mistake = mk.diagnose(got, mk.cross_entropy_variants(y, t), CE_RTOL, CE_ATOL)
            if mistake is None and kind != "one-hot" and onehot_ok:
                mistake = "int_labels"
            raise Fail(f"{what} is wrong", mistake)
        _unmodified(out, what)
    # A probability of exactly 0 away from the label, with one-hot labels.
    y = np.array([[0.01, 0.99, 0.0], [0.3, 0.2, 0.5]])
    t = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    (out,) = student.call("cross_entropy_error", [(y, t)])
    what = "cross_entropy_error(y, t) when some y is exactly 0"
    _require_ok(out, what)
    got = _scalar(out.value, what)
    if _nonfinite(got):
        raise Fail(f"{what} gave nan or inf", "no_delta")
    if not _close(got, ref.cross_entropy_error(y, t), CE_RTOL, CE_ATOL):
        raise Fail(f"{what} is wrong")


@REGISTRY.check("test_SoftmaxWithLoss", target="SoftmaxWithLoss", uses=('softmax', 'cross_entropy_error'))
def check_SoftmaxWithLoss(student):
    """SoftmaxWithLoss.forward gives the loss and backward(dout) gives (y - t) * dout / N for both label formats."""
    rng = np.random.default_rng(14)
    for N, C in ((1, 3), (6, 10)):
        x = _scores(rng, N, C, scale=1.5)
        lab = rng.integers(0, C, size=N)
        for kind, t in (("one-hot", _onehot(lab, C)), ("integer", lab)):
            for dout in (1, 2.5):
                steps = [("forward", (x, t)), ("backward", () if dout == 1 else (dout,))]
                outs = student.layer("SoftmaxWithLoss", steps)
                what = f"SoftmaxWithLoss with x of shape {x.shape} and {kind} labels"
                if not outs[0].ok and kind == "integer":
                    raise Fail(f"{what}: forward raised {outs[0].error}", "int_labels")
                _require_ok(outs[0], what + ": forward")
                loss = _scalar(outs[0].value, what + ": forward")
                if not _close(loss, ref.cross_entropy_error(ref.softmax(x), t), CE_RTOL, CE_ATOL):
                    mistake = mk.diagnose(loss, mk.cross_entropy_variants(ref.softmax(x), t),
                                          CE_RTOL, CE_ATOL)
                    if mistake is None and kind == "integer":
                        mistake = "int_labels"
                    raise Fail(f"{what}: forward returned a wrong loss", mistake)
                call = "backward()" if dout == 1 else f"backward({dout})"
                if len(outs) < 2:
                    raise Fail(f"{what}: {call} was not reached")
                if not outs[1].ok and kind == "integer":
                    raise Fail(f"{what}: {call} raised {outs[1].error}", "int_labels")
                if not outs[1].ok and "NoneType" in outs[1].error:
                    raise Fail(f"{what}: {call} raised {outs[1].error}", "not_stored")
                got = _array(outs[1], f"{what}: {call}", x.shape)
                layer = ref.SoftmaxWithLoss()
                layer.forward(x, t)
                if not _close(got, layer.backward(dout)):
                    mistake = mk.diagnose(got, mk.layer_backward_variants(x, t, dout))
                    if mistake is None and kind == "integer":
                        mistake = "int_labels"
                    raise Fail(f"{what}: {call} is wrong", mistake)


# ------------------------------------------------------------ Part 3


def _loss_outcomes(student, fn, cases):
    return student.call(fn, [(W, X, y, reg) for W, X, y, reg in cases])


def _check_loss(student, fn):
    cases = classifier_cases()
    for (W, X, y, reg), out in zip(cases, _loss_outcomes(student, fn, cases)):
        what = f"{fn} with W {W.shape}, X {X.shape}, reg={reg:g}"
        loss, _ = _pair(out, what, W.shape)
        want = ref.softmax_loss(W, X, y, reg)[0]
        if not _close(loss, want):
            if _nonfinite(loss):
                raise Fail(f"{what}: the loss is nan or inf", "no_max_subtraction")
            raise Fail(f"{what}: the loss is wrong (relative error "
                       f"{rel_error(loss, want):.1e})",
                       mk.diagnose(loss, mk.loss_variants(W, X, y, reg)))
        _unmodified(out, what)


def _check_grad(student, fn):
    cases = classifier_cases()
    for (W, X, y, reg), out in zip(cases, _loss_outcomes(student, fn, cases)):
        what = f"{fn} with W {W.shape}, X {X.shape}, reg={reg:g}"
        _, dW = _pair(out, what, W.shape)
        if not _close(dW, ref.softmax_loss(W, X, y, reg)[1]):
            mistake = mk.diagnose(dW, mk.grad_variants(W, X, y, reg))
            if mistake is None:
                mistake = _consistency_hint(student, fn, W, X, y, reg, dW)
            raise Fail(f"{what}: dW is wrong", mistake)
    # Analytic against centered differences of the student's own loss.
    W, X, y, reg = cases[1]
    _, dW = _pair(_loss_outcomes(student, fn, [(W, X, y, reg)])[0], fn, W.shape)
    num = _student_numerical_grad(student, fn, W, X, y, reg)
    err = rel_error(dW, num)
    if not err < 1e-6:
        raise Fail(f"{fn}: dW differs from the numerical gradient of your loss "
                   f"(relative error {err:.1e})", "grad_inconsistent")


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
        fp = _pair(outs[2 * k], fn, W.shape)[0]
        fm = _pair(outs[2 * k + 1], fn, W.shape)[0]
        num[i] = (fp - fm) / (2 * h)
    return num


def _consistency_hint(student, fn, W, X, y, reg, dW):
    if W.size > 40:
        W, X, y, reg = classifier_cases()[1]
        out = _loss_outcomes(student, fn, [(W, X, y, reg)])[0]
        try:
            _, dW = _pair(out, fn, W.shape)
        except Fail:
            return None
    try:
        num = _student_numerical_grad(student, fn, W, X, y, reg)
    except Fail:
        return None
    return "loss_wrong_grad_consistent" if rel_error(dW, num) < 1e-6 else "grad_inconsistent"


@REGISTRY.check("test_softmax_loss_naive_loss", target="softmax_loss_naive")
def check_softmax_loss_naive_loss(student):
    """softmax_loss_naive returns the right loss (mean cross-entropy + 0.5 reg |W|^2) and leaves its inputs unchanged."""
    _check_loss(student, "softmax_loss_naive")


@REGISTRY.check("test_softmax_loss_naive_grad", target="softmax_loss_naive")
def check_softmax_loss_naive_grad(student):
    """softmax_loss_naive returns the right dW, consistent with the numerical gradient of its own loss."""
    _check_grad(student, "softmax_loss_naive")


@REGISTRY.check("test_softmax_loss_vectorized_loss", target="softmax_loss_vectorized")
def check_softmax_loss_vectorized_loss(student):
    """softmax_loss_vectorized returns the right loss (mean cross-entropy + 0.5 reg |W|^2) and leaves its inputs unchanged."""
    _check_loss(student, "softmax_loss_vectorized")


@REGISTRY.check("test_softmax_loss_vectorized_grad", target="softmax_loss_vectorized")
def check_softmax_loss_vectorized_grad(student):
    """softmax_loss_vectorized returns the right dW, consistent with the numerical gradient of its own loss."""
    _check_grad(student, "softmax_loss_vectorized")


@REGISTRY.check("test_softmax_loss_vectorized_stable", target="softmax_loss_vectorized")
def check_softmax_loss_vectorized_stable(student):
    """softmax_loss_vectorized stays finite and right when every score is shifted by a large constant."""
    rng = np.random.default_rng(15)
    cases = []
    for offset, reg in ((1e3, 0.0), (-1e3, 0.0), (1e4, 1e-4)):
        W = rng.normal(size=(10, 65)) * 0.01
        W[:, -1] += offset                 # a large bias shared by every class
        X = rng.normal(size=(65, 50))
        X[-1] = 1.0
        cases.append((W, X, rng.integers(0, 10, size=50), reg))
    for (W, X, y, reg), out in zip(cases, _loss_outcomes(student, "softmax_loss_vectorized",
                                                         cases)):
        what = f"softmax_loss_vectorized when every score is shifted by {W[0, -1]:+.0f}"
        loss, dW = _pair(out, what, W.shape)
        if _nonfinite(loss) or _nonfinite(dW):
            raise Fail(f"{what}: the result has nan or inf", "no_max_subtraction")
        want_loss, want_dW = ref.softmax_loss(W, X, y, reg)
        if not (_close(loss, want_loss) and _close(dW, want_dW)):
            raise Fail(f"{what}: the result is wrong")


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


SPEED_REPEATS = 7
SPEED_MIN_RATIO = 5.0


def speed_inputs(k=SPEED_REPEATS, seed=16):
    """Distinct weights and labels per timed call, so a cached result cannot help.

    X is shared (it travels to the jail once); each call still needs W @ X.
    """
    rng = np.random.default_rng(seed)
    C, D, N = 10, 65, 2000
    X = rng.normal(size=(D, N))
    X[-1] = 1.0
    return [(rng.normal(size=(C, D)) * 0.01, X, rng.integers(0, C, size=N), 0.05)
            for _ in range(k)]


@REGISTRY.check("test_softmax_loss_vectorized_speed", target="softmax_loss_vectorized",
                timed=True)
def check_softmax_loss_vectorized_speed(student, timer):
    """Vectorized must be >= 5x faster than a reference loop over examples.

    The two are timed alternately and the same way (CPU time of a process of
    their own for one request), best of 7, on N = 2000. A vectorized solution
    measures ~15x on a 2-core VM, a loop over examples ~1x (2x at best), and
    CPU time does not stretch when the machine is busy, so load moves neither
    across 5x (`make bench`: 0 wrong verdicts in 400 runs). A code check for
    loops backs the timing.
    """
    fn = "softmax_loss_vectorized"
    lines = find_loops(student.cell_source(fn))
    if lines:
        raise Fail(f"{fn} has a Python loop (cell line {', '.join(map(str, lines))})",
                   "loop_in_vectorized")
    inputs = speed_inputs()
    student.stash(inputs)
    timer.stash(inputs)
    t_student, t_ref = [], []
    for k, (W, X, y, reg) in enumerate(inputs):
        t_ref.append(timer.timed(k))
        seconds, out = student.timed(fn, k)
        what = f"{fn} on W {W.shape}, X {X.shape}"
        loss, dW = _pair(out, what, W.shape)
        want_loss, want_dW = ref.softmax_loss(W, X, y, reg)
        if not (_close(loss, want_loss) and _close(dW, want_dW)):
            raise Fail(f"{what}: the result is wrong, so its speed does not count")
        t_student.append(seconds)
    ratio = min(t_ref) / max(min(t_student), 1e-9)
    if ratio < SPEED_MIN_RATIO:
        raise Fail(f"{fn} is only {ratio:.1f}x faster than a loop over examples "
                   f"(needs {SPEED_MIN_RATIO:g}x)", "too_slow")
    return f"{ratio:.0f}x faster than a loop over examples (needs {SPEED_MIN_RATIO:g}x)"

"""The hidden inputs of the softmax checks, generated from the notebook's contract.

Every dimension the notebook states or implies for an exercise (shapes, label
formats, dtypes, score regimes, reg, repeated calls, several instances) is
declared once here, in `DIMENSIONS`, as data; `contract.md` is its table, with
where the notebook says it. The hidden inputs of a check are an all-pairs
covering set of its dimensions (`autograder.check.pairwise`): every pair of values
of two dimensions meets in some case, so a mistake that needs two conditions
at once (integer one-hot labels for a single example, an integer W with
regularisation) meets its input, in a few dozen cases instead of thousands.

A case is a `Case`: the dimension values it stands for and the arguments built
from them, deterministically (a seed per check and case), so grades do not move.
"""
import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autograder.check import pairwise
from autograder.check.pairwise import Dimensions, covering
from autograder.record import ahead
from . import reference as ref

# The notebook's own sizes (digits: 10 classes, 65 features with the bias).
NOTEBOOK_C, NOTEBOOK_D = 10, 65
# The speed test's batch: a result that only uses part of a large batch must
# already fail here, where its test can name it.
LARGE_N = 2000
# exp(720) overflows float64 (past ~709.8) while exp(-720) is still a positive
# subnormal: any shift but the maximum overflows, every correct style stays finite
# (even sum(Y * log(P)) with one-hot matrices) and no true class rounds to p = 0.
GAP = 720
OFFSET = 1000


@dataclass(frozen=True)
class Case:
    """One hidden input: the dimension values it stands for, and the arguments."""
    dims: dict
    args: tuple
    extra: dict = field(default_factory=dict)
    # What checks computed from the arguments (`once`): never compared, never shown.
    kept: dict = field(default_factory=dict, compare=False, repr=False)

    def once(self, key, make):
        """make()'s value, computed on the first ask for `key` and kept with the case: a
        reference result several checks (and every student of the run) compare with.
        The value must not be changed by whoever asks (its arrays are made read-only)."""
        if key not in self.kept:
            self.kept[key] = read_only(make())
        return self.kept[key]

    def label(self):
        """The dimension values that are not the ordinary (first) one, for messages."""
        return ", ".join(f"{k} {v}" for k, v in self.dims.items())

    @property
    def float32(self):
        return self.dims.get("dtype") in ("float32", "W float32")


# ------------------------------------------------------------ dimensions

@dataclass(frozen=True)
class Shift:
    """What a stability case does to the scores; its key in SHIFTS is the dimension value
    the case is labelled with. The checks read these fields, never the label."""
    per_example: bool = False   # each example moves by its own large amount (column 0 of W)
    offset: float = 0.0         # added to every score of an example (the last class's weights)
    gap: float = 0.0            # one class moved this far from the others (W[0, -1])
    said: str = ""              # how messages give the offset ("+1000") or the gap ("above")


SHIFTS = {
    "offset +1000": Shift(offset=1000.0, said="+1000"),
    "offset -1000": Shift(offset=-1000.0, said="-1000"),
    "offset +10000": Shift(offset=10000.0, said="+10000"),
    "per-example offsets": Shift(per_example=True),
    "gap of 720 above": Shift(gap=GAP, said="above"),
    "gap of 720 below": Shift(gap=-GAP, said="below"),
}

# The regimes that add a common offset to the scores, and by how much (looked up by the
# dimension value, never read off it).
OFFSETS = {"offset +1000": OFFSET, "offset -1000": -OFFSET}


ROWS = {"batch": (6, 3), "1-D": (None, 4), "N=1": (1, 7), "N=C": (4, 4), "C=2": (5, 2),
        "large N": (300, NOTEBOOK_C)}

# (C, D, N) of the classifier's shapes.
SIZES = {"ordinary": (3, 5, 20), "notebook": (NOTEBOOK_C, NOTEBOOK_D, 20), "N=1": (4, 6, 1),
         "N=C": (4, 6, 4), "D=C": (5, 5, 12), "C=2": (2, 7, 15),
         "large N": (NOTEBOOK_C, NOTEBOOK_D, LARGE_N)}


# Integer index labels, by their dimension value: the dtype they are given in (looked
# up, never read off the value's words).
INDEX_DTYPES = {"int64 indices": np.int64, "int32 indices": np.int32}


def _rows_valid(case):
    one_row = case["shape"] in ("1-D", "N=1")
    if case.get("regime") == "per-row offsets" and one_row:
        return False
    labels = case.get("labels")
    if labels in ("python int", "numpy int") and case["shape"] != "1-D":
        return False            # a single label goes with one example, a 1-D y
    if labels in INDEX_DTYPES and case["shape"] == "1-D":
        return False            # a 1-D y takes one-hot or a single label
    return True


def _large_float(case):
    """A batch of LARGE_N examples in float64 only: it is there for every example to
    count (a random subset, the first ones); integer products are not BLAS and cost
    ~10x, and a dtype's mistake shows on every size."""
    return case["shape"] != "large N" or case["dtype"] == "float64"


DIMENSIONS = {
    "softmax": Dimensions({
        "shape": tuple(ROWS),
        "dtype": ("float64", "float32", "int"),
        "regime": ("ordinary", "offset +1000", "offset -1000", "per-row offsets",
                   "gap of 720", "underflow"),
        "calls": ("once", "twice"),
    }, valid=_rows_valid),
    "softmax_backward": Dimensions({
        "shape": tuple(ROWS),
        "dtype": ("float64", "float32"),
        "regime": ("ordinary", "confident", "constant dout"),
        "calls": ("once", "twice"),
    }, valid=_rows_valid),
    "cross_entropy_error": Dimensions({
        "shape": tuple(ROWS),
        "labels": ("int64 indices", "int32 indices", "python int", "numpy int",
                   "float one-hot", "int one-hot"),
        "regime": ("ordinary", "confident right", "confident wrong", "zero at the label",
                   "zero elsewhere"),
        "dtype": ("float64", "float32"),
        "calls": ("once", "twice"),
    }, valid=_rows_valid),
    "SoftmaxWithLoss": Dimensions({
        "shape": ("batch", "1-D", "N=1", "N=C", "C=2", "large N"),
        "labels": ("int64 indices", "int32 indices", "float one-hot", "int one-hot"),
        "regime": ("ordinary", "confident wrong", "offset +1000"),
        "dtype": ("float64", "int"),
        "dout": ("default", "2.5"),
        "use": ("one layer", "two layers interleaved", "backward twice"),
    }, valid=_rows_valid),
    "softmax_loss_naive": Dimensions({
        "shape": tuple(s for s in SIZES if s != "large N"),
        "regime": ("ordinary", "confident right", "confident wrong", "offset +1000",
                   "offset -1000", "gap of 720"),
        "dtype": ("float64", "W float32", "int"),
        "labels": ("int64", "int32"),
        "reg": ("0", "positive"),
    }),
    "softmax_loss_vectorized": Dimensions({
        "shape": tuple(SIZES),
        "regime": ("ordinary", "confident right", "confident wrong"),
        "dtype": ("float64", "W float32", "int"),
        "labels": ("int64", "int32"),
        "reg": ("0", "positive"),
    }, valid=_large_float),
    "stability": Dimensions({
        "shape": ("notebook", "ordinary", "N=1", "C=2"),
        "shift": tuple(SHIFTS),
        "dtype": ("float64", "int"),
    }, valid=_large_float),
}

SEEDS = {name: k for k, name in enumerate(DIMENSIONS, start=101)}


def plan(name):
    """The covering set of dimension values of one exercise (fresh dicts), ordinary first."""
    return [dict(c) for c in _plan(name)]


@functools.cache
def _plan(name):
    dims = DIMENSIONS[name]
    first = {k: v[0] for k, v in dims.values.items()}
    seeds = [first] if dims.valid(first) else []
    cases = covering(dims, seed_cases=seeds)
    # Ordinary regimes first: a formula mistake is then read off ordinary scores.
    order = {k: i for i, k in enumerate(dims.values.get("regime", dims.values.get("shift", ())))}
    key = "regime" if "regime" in dims.values else "shift"
    return tuple(sorted(cases, key=lambda c: order.get(c.get(key), 0)))


def prepare():
    """Every exercise's hidden inputs (`cases`, kept once made): about 50 ms of the first
    student's checks otherwise (the pipeline calls this ahead, in a background thread)."""
    _all()


def cases(name):
    """The hidden inputs (Cases) of one exercise: its covering set, then the inputs of
    the notebook's own check cell (every assert there is part of the hidden test).

    Made once per process (`build` makes the same values every time, a seed per case),
    and kept between runs (`record.ahead`: read back in a fifth of the time): every
    student is judged on these very arrays. They are read-only, so no check can change
    the input a later check or student is judged on (the student's code gets copies:
    a jail's worker decodes them, the in-kernel student copies them)."""
    return _all()[name]


# What the hidden inputs are made from: this package (builders, seeds, dimensions) and
# the covering-set algorithm. A change to any of them makes them anew.
SOURCES = (*sorted(Path(__file__).parent.glob("*.py")), Path(pairwise.__file__))


@functools.cache
def _all():
    made = ahead.kept(folder=Path(__file__).parent, name="hidden-inputs", sources=SOURCES,
                      make=lambda: {name: tuple(build(name)) for name in DIMENSIONS},
                      valid=_valid)
    return {name: tuple(_read_only(c) for c in made[name]) for name in DIMENSIONS}


def _valid(made):
    """A kept value is every exercise's tuple of Cases, none with a kept result."""
    return isinstance(made, dict) and set(made) == set(DIMENSIONS) and all(
        isinstance(cs, tuple) and all(isinstance(c, Case) and not c.kept for c in cs)
        for cs in made.values())


def build(name):
    """The Cases of one exercise, made anew (`cases` keeps them)."""
    make = BUILDERS[name]
    return [make(d, np.random.default_rng([SEEDS[name], i]))
            for i, d in enumerate(plan(name))] + visible(name)


def read_only(value):
    """`value` with every array in it (in tuples too) made read-only; returns it."""
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    elif isinstance(value, tuple):
        for v in value:
            read_only(v)
    return value


def _read_only(case):
    read_only(case.args)
    for v in case.extra.values():
        read_only(v)
    return case


def _v(shape, **dims):
    return {"shape": shape, "dtype": "float64", "regime": "ordinary", "calls": "once",
            "source": "the notebook's check cell", **dims}


def visible(name):
    """The inputs of the exercise's visible check cell, as Cases (solutions/softmax)."""
    a = np.array
    if name == "softmax":
        return [Case(_v("1-D"), (a([0.0, 0.0]),)), Case(_v("1-D"), (a([1.0, 2.0, 3.0]),)),
                Case(_v("batch"), (a([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]]),)),
                Case(_v("1-D", regime="offset +1000"), (a([1000.0, 1000.0]),)),
                Case(_v("N=1", regime="offset -1000"), (a([[-1000.0, -1001.0]]),))]
    if name == "softmax_backward":
        y = a([0.2, 0.3, 0.5])
        return [Case(_v("1-D"), (a([1.0, 0.0]), a([0.5, 0.5]))),
                Case(_v("1-D", regime="constant dout"), (np.ones(3), y)),
                Case(_v("1-D"), (a([1.0, 2.0, 3.0]), y)),
                Case(_v("batch"), (a([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]]),
                                   a([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]])))]
    if name == "cross_entropy_error":
        y = a([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
        Y = a([[0.3, 0.2, 0.5], [0.01, 0.99, 0.0]])
        strict = {"atol": 1e-5, "rtol": 1e-5}     # np.isclose(..., atol=1e-5) there
        return [Case(_v("1-D", labels="float one-hot"), (y, np.eye(10)[2]), strict),
                Case(_v("1-D", labels="float one-hot"), (y, np.eye(10)[7]), strict),
                Case(_v("1-D", labels="numpy int"), (y, np.int64(7)), strict),
                Case(_v("1-D", labels="numpy int", regime="zero at the label"),
                     (y, np.int64(3)), strict),
                Case(_v("batch", labels="float one-hot", regime="zero elsewhere"),
                     (Y, a([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])), strict),
                Case(_v("batch", labels="int64 indices", regime="zero elsewhere"),
                     (Y, a([0, 1])), strict)]
    if name == "SoftmaxWithLoss":
        x = np.log(a([[0.3, 0.2, 0.5]]))
        d = {"dout": "default", "use": "one layer"}
        return [Case(_v("N=1", labels="float one-hot", **d), (x, a([[0.0, 1.0, 0.0]]))),
                Case(_v("N=1", labels="int64 indices", regime="confident right", **d),
                     (np.log(a([[0.01, 0.99, 1e-12]])), a([1]))),
                Case(_v("batch", labels="int64 indices", **{**d, "dout": "2.0"}),
                     (np.log(a([[0.3, 0.2, 0.5], [0.3, 0.2, 0.5]])), a([1, 1])))]
    if name in ("softmax_loss_naive", "softmax_loss_vectorized"):
        X = a([[1.0, 2.0], [1.0, 1.0]])
        y2 = a([0, 2])
        W1 = a([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
        d = {"labels": "int64", "reg": "0"}
        out = [Case(_v("ordinary", **d), (np.zeros((3, 2)), X, y2, 0.0)),
               Case(_v("ordinary", **{**d, "reg": "positive"}), (np.ones((3, 2)), X, y2, 0.1)),
               Case(_v("ordinary", **d), (W1, X, y2, 0.0))]
        if name == "softmax_loss_naive":
            out.append(Case(_v("N=1", regime="confident right", **d),
                            (W1, a([[1000.0], [1.0]]), a([0]), 0.0)))
        return out
    return []


# ------------------------------------------------------------ builders


def _cast(a, dtype):
    if dtype == "float32":
        return a.astype(np.float32)
    if dtype == "int":
        return np.round(a).astype(np.int64)
    return a


def _rows(d, rng, scale=3.0):
    n, c = ROWS[d["shape"]]
    return rng.normal(size=(c,) if n is None else (n, c)) * scale


def _softmax(d, rng):
    x = _rows(d, rng)
    regime = d["regime"]
    if regime in OFFSETS:
        x = x + OFFSETS[regime]
    elif regime == "per-row offsets":
        offs = np.resize(np.array([OFFSET, -OFFSET, 0.0, 300.0]), x.shape[0])[:, None]
        x = x + offs
    elif regime == "gap of 720":
        x[..., 1 % x.shape[-1]] += GAP
    elif regime == "underflow":
        x[..., 0] -= 800.0              # exp(-800) is 0 in float64: an exact 0 probability
    return Case(d, (_cast(x, d["dtype"]),))


def _backward(d, rng):
    shape = _rows(d, rng).shape
    scores = rng.normal(size=shape) * 3.0
    if d["regime"] == "confident":
        scores[..., 0] += 800.0          # y is exactly one-hot: the others underflow to 0
    y = ref.softmax(scores)
    dout = rng.normal(size=shape)
    if d["regime"] == "constant dout":
        dout = np.full(shape, 1.7)       # softmax ignores a common shift: dx = 0
    if d["dtype"] == "float32":
        y, dout = y.astype(np.float32), dout.astype(np.float32)
    return Case(d, (dout, y))


def _labels_for(d, lab, c):
    kind = d["labels"]
    if kind in ("python int", "numpy int"):
        return int(lab[0]) if kind == "python int" else np.int64(lab[0])
    if kind in INDEX_DTYPES:
        return lab.astype(INDEX_DTYPES[kind])
    onehot = np.zeros((len(lab), c))
    onehot[np.arange(len(lab)), lab] = 1
    onehot = onehot.astype(np.int64) if kind == "int one-hot" else onehot
    return onehot[0] if d["shape"] == "1-D" else onehot


def _ce(d, rng):
    scores = _rows(d, rng, scale=1.0)
    s2 = np.atleast_2d(scores)
    n, c = s2.shape
    lab = rng.integers(0, c, size=n)
    regime = d["regime"]
    rows = np.arange(n)
    if regime == "confident right":
        s2[rows, lab] += 25.0
    elif regime == "confident wrong":
        s2[rows, lab] -= 20.0            # p(label) ~ 1e-9: below the 1e-7 delta
    y = ref.softmax(s2)
    if regime == "zero at the label":
        y[0, lab[0]] = 0.0               # exactly 0: only the 1e-7 delta keeps it finite
        y[0] /= y[0].sum()
    elif regime == "zero elsewhere":
        other = (lab + 1) % c
        y[rows, other] = 0.0
        y /= y.sum(axis=1, keepdims=True)
    y = y[0] if scores.ndim == 1 else y
    if d["dtype"] == "float32":
        y = y.astype(np.float32)
    return Case(d, (y, _labels_for(d, lab, c)))


def _layer(d, rng):
    x = _rows(d, rng, scale=1.5)
    x2 = np.atleast_2d(x)
    n, c = x2.shape
    lab = rng.integers(0, c, size=n)
    if d["regime"] == "confident wrong":
        x2[np.arange(n), lab] -= 20.0
    elif d["regime"] == "offset +1000":
        x = x + OFFSET
    x = _cast(x, d["dtype"])
    t = _labels_for(d, lab, c)
    other = _cast(rng.normal(size=x.shape) * 1.5, d["dtype"])
    other_t = _labels_for(d, rng.integers(0, c, size=n), c)
    return Case(d, (x, t), {"other": (other, other_t)})


def _classifier(d, rng):
    C, D, N = SIZES[d["shape"]]
    W = rng.normal(size=(C, D)) * 0.05
    X = rng.normal(size=(D, N))
    regime = d["regime"] if "regime" in d else "ordinary"
    if d["dtype"] == "int":
        W = rng.integers(-1, 2, size=(C, D)).astype(np.int64)
        X = rng.integers(-1, 2, size=(D, N)).astype(np.int64)
    X[-1] = 1                            # the bias trick's row of ones
    y = rng.integers(0, C, size=N)
    if regime in ("confident right", "confident wrong"):
        # Each example points along (or against) its label's row of W, whose rows are
        # orthogonal (D >= C in every shape): its label scores +-30 and the others ~0,
        # so p(label) is within ~1e-13 of 1 (right) or ~1e-13 itself (wrong), far past
        # the 1e-7 that a floor inside the log would add; |scores| stay << 700.
        sign = 1 if regime == "confident right" else -1
        if d["dtype"] == "int":
            W = 5 * np.eye(C, D, dtype=np.int64)
            X = sign * 6 * np.eye(C, D, dtype=np.int64)[y].T + rng.integers(-1, 2, size=(D, N))
        else:
            Q = np.linalg.qr(rng.normal(size=(D, C)))[0]         # (D, C), orthonormal
            W = Q.T.copy()
            X = sign * 30 * Q[:, y] + 0.1 * rng.normal(size=(D, N))
    elif regime in OFFSETS:
        W = W.copy()
        W[:, -1] += OFFSETS[regime]
    elif regime == "gap of 720":
        W = W.copy()
        W[0, -1] += GAP
    y = y.astype(np.int32 if d.get("labels") == "int32" else np.int64)
    if d["dtype"] == "W float32":
        W = W.astype(np.float32)
    reg = 0.37 if d.get("reg") == "positive" else 0.0
    return Case(d, (W, X, y, reg))


def _stability(d, rng):
    """(W, X, y) and the shifted W: scores moved by a shift softmax ignores (or one
    class moved by 720, whose result the student's own unshifted one need not equal)."""
    base = _classifier({**d, "regime": "ordinary"}, rng)
    W, X, y, _ = base.args
    W = W * (1 if d["dtype"] == "int" else 0.2)
    Ws = W.astype(float)
    shift = SHIFTS[d["shift"]]
    if shift.per_example:
        Ws[:, 0] += OFFSET               # example i moves by 1000 * X[0, i]
    if shift.offset:
        Ws[:, -1] += shift.offset
    if shift.gap:
        Ws[0, -1] += shift.gap
    if d["dtype"] == "int":
        Ws = np.round(Ws).astype(np.int64)
    return Case(d, (Ws, X, y, 0.0), {"base": (W, X, y, 0.0), "shift": shift})


BUILDERS = {"softmax": _softmax, "softmax_backward": _backward, "cross_entropy_error": _ce,
            "SoftmaxWithLoss": _layer, "softmax_loss_naive": _classifier,
            "softmax_loss_vectorized": _classifier, "stability": _stability}


# ------------------------------------------------------------ contract.md

BEGIN, END = "<!-- covering sets: begin (inputs.markdown) -->", "<!-- covering sets: end -->"


def markdown():
    """The covering set of every exercise as Markdown tables (contract.md holds a copy
    between BEGIN and END; a test keeps the two equal)."""
    out = [BEGIN]
    for name, dims in DIMENSIONS.items():
        cases_ = plan(name)
        pairs = len(dims.required_pairs())
        out += ["", f"**{name}**: {len(cases_)} cases cover all {pairs} pairs "
                    f"({len(dims.combinations())} combinations).", "",
                "| # | " + " | ".join(dims.names()) + " |",
                "|---|" + "---|" * len(dims.names())]
        out += [f"| {i} | " + " | ".join(str(c[k]) for k in dims.names()) + " |"
                for i, c in enumerate(cases_)]
    out += ["", END]
    return "\n".join(out)

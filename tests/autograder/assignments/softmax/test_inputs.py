"""The hidden inputs cover the contract: every pair of each exercise's dimension values
meets in some hidden input, and each input is what its dimension values say."""
import numpy as np
import pytest

from autograder.assignments.softmax import inputs
from autograder.check.pairwise import pairs_of


@pytest.mark.parametrize("name", sorted(inputs.DIMENSIONS))
def test_every_pair_of_dimension_values_is_covered_by_a_hidden_input(name):
    dims = inputs.DIMENSIONS[name]
    hidden = [c for c in inputs.cases(name) if "source" not in c.dims]
    have = set().union(*(pairs_of({k: c.dims[k] for k in dims.names()}) for c in hidden))
    missing = dims.required_pairs() - have
    assert not missing, sorted(missing)
    assert {(k, c.dims[k]) for c in hidden for k in dims.names()} == dims.singles()


@pytest.mark.parametrize("name", sorted(inputs.DIMENSIONS))
def test_the_covering_set_is_small(name):
    # all pairs, not all combinations: a few dozen at most, about the product of the
    # two largest dimensions (the least any covering set needs)
    sizes = sorted(len(v) for v in inputs.DIMENSIONS[name].values.values())
    assert len(inputs.plan(name)) <= 40
    assert len(inputs.plan(name)) <= 1.5 * sizes[-1] * sizes[-2]


def _rows_shape(shape, a):
    n, c = inputs.ROWS[shape]
    return a.shape == ((c,) if n is None else (n, c))


def test_row_inputs_are_what_their_dimensions_say():
    for name in ("softmax", "cross_entropy_error", "SoftmaxWithLoss", "softmax_backward"):
        for c in inputs.cases(name):
            if "source" in c.dims:
                continue
            a = np.asarray(c.args[0] if name != "softmax_backward" else c.args[1])
            assert _rows_shape(c.dims["shape"], a), (name, c.dims, a.shape)
            dtype = c.dims.get("dtype")
            if dtype == "int":
                assert a.dtype.kind == "i"
            elif dtype == "float32":
                assert a.dtype == np.float32
            labels = c.dims.get("labels")
            if labels is None:
                continue
            t = c.args[1]
            if labels == "python int":
                assert type(t) is int
            elif labels == "numpy int":
                assert isinstance(t, np.integer)
            elif labels.endswith("indices"):
                assert t.dtype == (np.int32 if "32" in labels else np.int64)
                assert t.shape == (np.atleast_2d(a).shape[0],)
            else:
                assert t.shape == a.shape and set(np.unique(t)) <= {0, 1}
                assert t.dtype.kind == ("i" if labels == "int one-hot" else "f")


def test_classifier_inputs_are_what_their_dimensions_say():
    for name in ("softmax_loss_naive", "softmax_loss_vectorized"):
        seen = {"confident right": [], "confident wrong": []}
        for c in inputs.cases(name):
            if "source" in c.dims:
                continue
            W, X, y, reg = c.args
            C, D, N = inputs.SIZES[c.dims["shape"]]
            assert W.shape == (C, D) and X.shape == (D, N) and y.shape == (N,)
            assert (reg > 0) == (c.dims["reg"] == "positive")
            assert y.dtype == (np.int32 if c.dims["labels"] == "int32" else np.int64)
            assert W.dtype == {"int": np.int64, "W float32": np.float32}.get(
                c.dims["dtype"], np.float64)
            if c.dims["regime"] in seen:
                # A floor inside the log (+ 1e-7) moves the loss far past the tolerance.
                S = (W @ X).astype(float)
                log_p = S - S.max(axis=0) - np.log(np.exp(S - S.max(axis=0)).sum(axis=0))
                p = np.exp(log_p[y, np.arange(N)])
                exact = -log_p[y, np.arange(N)].mean() + 0.5 * reg * np.sum(W * W)
                floored = -np.log(p + 1e-7).mean() + 0.5 * reg * np.sum(W * W)
                seen[c.dims["regime"]].append(abs(floored - exact) > 5 * (1e-5 * abs(exact) + 1e-8))
        # A confident right prediction shows a floor only without a (much larger)
        # penalty term; a confident wrong one nearly always.
        assert sum(seen["confident right"]) >= 2, (name, seen)
        assert sum(seen["confident wrong"]) >= len(seen["confident wrong"]) - 1, (name, seen)


def test_hidden_inputs_do_not_move_between_runs():
    """Built twice, the same values; and the kept ones (`cases`) are those values."""
    for name in inputs.DIMENSIONS:
        a, b, kept = inputs.build(name), inputs.build(name), inputs.cases(name)
        assert len(a) == len(b) == len(kept)
        for ca, cb, ck in zip(a, b, kept):
            assert ca.dims == cb.dims == ck.dims
            for x, y, z in zip(ca.args, cb.args, ck.args):
                assert np.array_equal(x, y) and np.array_equal(x, z), name


def test_kept_hidden_inputs_are_made_once_and_cannot_be_changed():
    name = "softmax_loss_vectorized"
    assert inputs.cases(name) is inputs.cases(name)
    arrays = [a for c in inputs.cases(name) for a in c.args if isinstance(a, np.ndarray)]
    arrays += [a for c in inputs.cases("stability") for a in c.extra["base"]
               if isinstance(a, np.ndarray)]
    assert arrays
    for a in arrays:
        with pytest.raises(ValueError):
            a[(0,) * a.ndim] = 0


def test_a_kept_result_is_computed_once_and_cannot_be_changed():
    case = inputs.build("softmax_loss_naive")[0]
    made = []

    def make():
        made.append(1)
        return (1.5, np.ones((2, 2)))
    first = case.once("k", make)
    assert case.once("k", make) is first and made == [1]
    with pytest.raises(ValueError):
        first[1][0, 0] = 2.0
    assert case.once("other", lambda: 3) == 3       # kept per key


def test_contract_md_lists_the_covering_sets_the_checks_use():
    from pathlib import Path
    text = (Path(inputs.__file__).parent / "contract.md").read_text()
    start, end = text.index(inputs.BEGIN), text.index(inputs.END) + len(inputs.END)
    assert text[start:end] == inputs.markdown(), \
        "contract.md's covering sets are stale: paste inputs.markdown() between the markers"


def test_prepare_makes_every_exercises_inputs_and_references_as_the_checks_would():
    """What the pipeline runs ahead (Assignment.prepare): afterwards a correct student's
    checks make no input and no reference of the classifier again, and each is the one
    made on demand."""
    from autograder.assignments.softmax import ASSIGNMENT, checks, reference as ref
    from autograder.hidden import InKernelStudent
    from tests.autograder.helpers import reference_namespace
    assert ASSIGNMENT.prepare is checks.prepare
    inputs._all.cache_clear()
    ASSIGNMENT.prepare()
    assert inputs._all.cache_info().currsize == 1
    for name in inputs.DIMENSIONS:
        assert [c.dims for c in inputs.cases(name)] == [c.dims for c in inputs.build(name)]
    for fn in ("softmax_loss_naive", "softmax_loss_vectorized"):
        for case in inputs.cases(fn):
            loss, dW = case.kept[("softmax_loss", False)]
            want = ref.softmax_loss(*case.args)
            assert loss == want[0] and np.array_equal(dW, want[1])
    for case in inputs.cases("stability"):
        assert case.kept["base"][0] == ref.softmax_loss(*case.extra["base"])[0]
    made = inputs._all.cache_info().misses
    kept = {id(c): dict(c.kept) for fn in ("softmax_loss_naive", "softmax_loss_vectorized")
            for c in inputs.cases(fn)}
    student = InKernelStudent(reference_namespace())
    for check in (checks.check_softmax_loss_naive_loss, checks.check_softmax_loss_naive_grad,
                  checks.check_softmax_loss_vectorized_loss,
                  checks.check_softmax_loss_vectorized_grad):
        check(student)
    assert inputs._all.cache_info().misses == made            # no input made again
    assert {id(c): dict(c.kept) for fn in ("softmax_loss_naive", "softmax_loss_vectorized")
            for c in inputs.cases(fn)} == kept                # no reference made again


def test_the_kept_hidden_inputs_are_the_ones_built_and_stay_read_only():
    """Read back from the file a run kept (record.ahead), the hidden inputs are exactly
    the ones built, and read-only like them."""
    inputs._all.cache_clear()
    first = inputs._all()
    inputs._all.cache_clear()
    again = inputs._all()                     # from the kept file where it could be written
    for name in inputs.DIMENSIONS:
        built = inputs.build(name)
        assert len(again[name]) == len(built) == len(first[name])
        for a, b in zip(again[name], built):
            assert a.dims == b.dims
            for x, y in zip(a.args, b.args):
                assert type(x) is type(y) and np.array_equal(x, y)
                if isinstance(x, np.ndarray):
                    assert x.dtype == y.dtype and not x.flags.writeable

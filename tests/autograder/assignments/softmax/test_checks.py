"""The hidden checks: right for every correct solution, wrong for each mistake."""
import numpy as np
import pytest

from autograder.assignments.softmax import ASSIGNMENT, checks
from autograder.check.registry import run_check as _run
from autograder.hidden import InKernelStudent, LocalTimer
from autograder.assignments.softmax.samples.mistakes import MISTAKES
from autograder.assignments.softmax.samples.styles import STYLES

from tests.autograder.helpers import namespace_with, reference_namespace


def run_check(test_id, student, timer=None):
    """A check of the softmax registry by test id, with the softmax hints."""
    return _run(checks.REGISTRY[test_id], student, timer, ASSIGNMENT.hints)


def run_all(ns):
    timer = LocalTimer(ASSIGNMENT.timer_reference)
    return {t: run_check(t, InKernelStudent(ns), timer) for t in checks.REGISTRY.ids()}


def test_reference_passes_every_check():
    verdicts = run_all(reference_namespace())
    assert {t: v.message for t, v in verdicts.items() if not v.passed} == {}


@pytest.mark.parametrize("style", sorted(STYLES))
def test_other_correct_styles_pass(style):
    verdicts = run_all(namespace_with(STYLES[style]))
    assert {t: v.message for t, v in verdicts.items() if not v.passed} == {}


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_each_mistake_fails_its_test_and_is_named(name):
    cell_id, source, test_id, mistake = MISTAKES[name]
    verdicts = run_all(namespace_with({cell_id: source}))
    v = verdicts[test_id]
    assert not v.passed, f"{name} passed {test_id}"
    assert v.mistake == mistake, f"{name}: diagnosed {v.mistake!r}: {v.message}"
    assert v.hint
    # A mistake in one function costs nothing elsewhere in unrelated parts.
    untouched = [t for t, target in ((c.test_id, c.target) for c in checks.REGISTRY) if target != cell_id
                 and not (cell_id in ("softmax", "cross_entropy_error") and t == "test_SoftmaxWithLoss")]
    assert all(verdicts[t].passed for t in untouched), \
        {t: verdicts[t].message for t in untouched if not verdicts[t].passed}


def test_not_implemented_is_named():
    ns = namespace_with({"softmax": "def softmax(x):\n    raise NotImplementedError()\n"})
    v = run_check("test_softmax", InKernelStudent(ns))
    assert not v.passed and v.mistake == "not_implemented"


def test_fake_equality_objects_earn_nothing():
    src = '''
class Anything:
    def __eq__(self, other): return True
    def __array__(self, *a, **k): raise TypeError("no")
def softmax(x):
    return Anything()
'''
    v = run_check("test_softmax", InKernelStudent(namespace_with({"softmax": src})))
    assert not v.passed and v.mistake == "not_array"


def test_ndarray_subclass_with_lying_eq_is_compared_as_numbers():
    src = '''
class Liar(np.ndarray):
    def __eq__(self, other): return True
def softmax(x):
    return np.zeros_like(x).view(Liar)
'''
    v = run_check("test_softmax", InKernelStudent(namespace_with({"softmax": src})))
    assert not v.passed


def test_the_loop_reading_sees_loops_and_loop_helpers():
    assert checks.loops_reached(["def f(X):\n    for i in X:\n        pass\n"], "f") == [("f", 2)]
    assert checks.loops_reached(["def f(X):\n    return [x for x in X]\n"], "f") == [("f", 2)]
    assert checks.loops_reached(["def f(X):\n    return np.apply_along_axis(g, 0, X)\n"],
                                "f") == [("f", 2)]
    assert checks.loops_reached(["def f(W, X):\n    return W @ X\n"], "f") == []


def test_speed_check_fails_a_loop_hidden_from_the_code_check():
    cell_id, source, test_id, _ = MISTAKES["vectorized_hidden_loop"]
    ns = namespace_with({cell_id: source})
    v = run_check(test_id, InKernelStudent(ns), LocalTimer(ASSIGNMENT.timer_reference))
    assert not v.passed and v.mistake == "too_slow"


def test_a_warning_from_correct_code_costs_nothing():
    src = '''
import warnings

def softmax(x):
    warnings.warn("harmless", RuntimeWarning)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
'''
    v = run_check("test_softmax", InKernelStudent(namespace_with({"softmax": src})))
    assert v.passed, v.message


def test_probability_based_loss_passes_stability_check():
    # -log(p_y) with max-subtraction, no log-sum-exp: correct, so it passes.
    src = '''
def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[1]
    S = W @ X
    P = np.exp(S - S.max(axis=0))
    P /= P.sum(axis=0)
    loss = -np.mean(np.log(P[y, np.arange(N)])) + 0.5 * reg * np.sum(W * W)
    P[y, np.arange(N)] -= 1
    return loss, P @ X.T / N + reg * W
'''
    ns = namespace_with({"softmax_loss_vectorized": src})
    for t in ("test_softmax_loss_vectorized_loss", "test_softmax_loss_vectorized_grad",
              "test_softmax_loss_vectorized_stable", "test_softmax_loss_vectorized_speed"):
        v = run_check(t, InKernelStudent(ns), LocalTimer(ASSIGNMENT.timer_reference))
        assert v.passed, (t, v.message)


def test_messages_never_quote_a_hidden_expected_value():
    cell_id, source, test_id, _ = MISTAKES["naive_reg_2x"]
    ns = namespace_with({cell_id: source})
    v = run_check(test_id, InKernelStudent(ns))
    W, X, y, reg = checks.classifier_cases()[1]
    want = f"{checks.ref.softmax_loss(W, X, y, reg)[0]:.4f}"
    assert want not in v.message


# ------------------------------------------------------------ one mistake, its own tests

_NAIVE_SUMMED = '''
def softmax_loss_naive(W, X, y, reg):
    N = X.shape[1]
    loss, dW = 0.0, np.zeros(W.shape)
    for i in range(N):
        s = W @ X[:, i]
        s = s - s.max()
        p = np.exp(s) / np.exp(s).sum()
        loss -= np.log(p[y[i]])
        p[y[i]] -= 1
        dW += np.outer(p, X[:, i])
    return loss + 0.5 * reg * np.sum(W * W), dW / N + reg * W
'''
_VECTORIZED_SUMMED = '''
def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[1]
    S = W @ X
    S = S - S.max(axis=0, keepdims=True)
    P = np.exp(S) / np.exp(S).sum(axis=0, keepdims=True)
    loss = -np.log(P[y, np.arange(N)]).sum() + 0.5 * reg * np.sum(W * W)
    P[y, np.arange(N)] -= 1
    return loss, P @ X.T / N + reg * W
'''


def _failed(cells):
    verdicts = run_all(namespace_with(cells))
    return {t: v for t, v in verdicts.items() if not v.passed}


def test_a_loss_summed_in_both_versions_costs_only_the_two_loss_tests():
    failed = _failed({"softmax_loss_naive": _NAIVE_SUMMED,
                      "softmax_loss_vectorized": _VECTORIZED_SUMMED})
    assert set(failed) == {"test_softmax_loss_naive_loss", "test_softmax_loss_vectorized_loss"}
    assert {v.mistake for v in failed.values()} == {"not_averaged"}


def test_no_reg_in_both_gradients_costs_only_the_two_gradient_tests():
    failed = _failed({
        "softmax_loss_naive": _NAIVE_SUMMED.replace("return loss +", "return loss / N +")
                                           .replace("dW / N + reg * W", "dW / N"),
        "softmax_loss_vectorized": _VECTORIZED_SUMMED.replace(".sum() +", ".mean() +")
                                                     .replace("/ N + reg * W", "/ N")})
    assert set(failed) == {"test_softmax_loss_naive_grad", "test_softmax_loss_vectorized_grad"}
    assert {v.mistake for v in failed.values()} == {"reg_missing_grad"}


def test_a_vectorized_loss_wrong_alone_costs_only_the_loss_test():
    # Summed, not averaged: a recognised mistake, charged by the loss test; the
    # vectorization itself is real, so its speed still counts.
    failed = _failed({"softmax_loss_vectorized": _VECTORIZED_SUMMED})
    assert set(failed) == {"test_softmax_loss_vectorized_loss"}
    assert failed["test_softmax_loss_vectorized_loss"].mistake == "not_averaged"


def test_an_unrecognised_wrong_result_earns_no_speed_and_says_why():
    src = _VECTORIZED_SUMMED.replace("return loss, P @ X.T / N + reg * W",
                                     "return loss * 1.37, P @ X.T / N * 0.5 + reg * W")
    failed = _failed({"softmax_loss_vectorized": src})
    v = failed["test_softmax_loss_vectorized_speed"]
    assert "speed does not count" in v.message and v.mistake == "speed_wrong_result"


def test_stability_names_its_property_when_no_max_is_subtracted():
    failed = _failed({"softmax_loss_vectorized": MISTAKES["vectorized_no_max"][1]})
    v = failed["test_softmax_loss_vectorized_stable"]
    assert "shifted by +1000" in v.message and v.mistake == "no_max_subtraction"
    assert set(failed) == {"test_softmax_loss_vectorized_stable"}


def test_a_global_max_fails_only_on_rows_of_different_sizes():
    src = '''
def softmax(x):
    e = np.exp(x - np.max(x))
    return e / np.sum(e, axis=-1, keepdims=True)
'''
    v = run_check("test_softmax", InKernelStudent(namespace_with({"softmax": src})))
    assert not v.passed and v.mistake == "global_max" and "per-row offsets" in v.message


def test_a_layer_failing_through_softmax_points_back_to_it():
    from autograder.assignments.softmax.samples import reference_cells
    # The notebook's layer, which calls the student's softmax.
    failed = _failed({"softmax": MISTAKES["softmax_wrong_axis"][1],
                      "SoftmaxWithLoss": reference_cells()["SoftmaxWithLoss"]})
    assert failed["test_softmax"].mistake == "wrong_axis"
    assert failed["test_SoftmaxWithLoss"].mistake == "uses_softmax"


def test_loss_a_float_not_an_array():
    src = _VECTORIZED_SUMMED.replace("np.log(P[y, np.arange(N)]).sum()",
                                     "np.log(P[y, np.arange(N)]).sum(keepdims=True) / N")
    v = run_check("test_softmax_loss_vectorized_loss", InKernelStudent(
        namespace_with({"softmax_loss_vectorized": src})))
    assert not v.passed and v.mistake == "not_float"


def test_delta_at_the_true_class_is_enforced():
    _cell, src, _test, _mistake = MISTAKES["ce_no_delta"]
    v = run_check("test_cross_entropy_error", InKernelStudent(
        namespace_with({"cross_entropy_error": src})))
    # The first input it fails: a true class of probability ~1e-9 (confident wrong)
    # or exactly 0, both named by the missing delta.
    assert not v.passed and v.mistake == "no_delta" and "regime" in v.message


def test_layer_that_changes_self_y_in_backward_fails_its_state():
    _cell, src, _test, _mistake = MISTAKES["layer_changes_y"]
    v = run_check("test_SoftmaxWithLoss", InKernelStudent(
        namespace_with({"SoftmaxWithLoss": src})))
    assert not v.passed and v.mistake == "layer_state", v.message


@pytest.mark.parametrize("stand_in", ["0.0, np.zeros_like(W)",
                                      "float(W.sum() + y.sum()), W * 0 + X.mean()"])
def test_a_cheap_stand_in_agreeing_with_naive_earns_no_speed(stand_in):
    # Both versions return the same cheap value: they agree with each other, but
    # neither computes a softmax loss, so the speed of that value does not count.
    cells = {fn: f"def {fn}(W, X, y, reg):\n    return {stand_in}\n"
             for fn in ("softmax_loss_naive", "softmax_loss_vectorized")}
    v = run_check("test_softmax_loss_vectorized_speed", InKernelStudent(namespace_with(cells)),
                  LocalTimer(ASSIGNMENT.timer_reference))
    assert not v.passed and v.mistake == "speed_wrong_result", v.message


@pytest.mark.parametrize("stand_in", ["0.0, np.zeros_like(W)",
                                      "float(W.sum()), W * 0 + X.mean()",
                                      "1.0, np.ones_like(W)"])
def test_a_shift_invariant_stand_in_earns_no_stability(stand_in):
    # A constant does not change under a shift of the scores; it is no softmax loss
    # either, so its invariance shows nothing.
    ns = namespace_with({"softmax_loss_vectorized":
                         f"def softmax_loss_vectorized(W, X, y, reg):\n    return {stand_in}\n"})
    v = run_check("test_softmax_loss_vectorized_stable", InKernelStudent(ns))
    assert not v.passed and v.mistake == "stability_broken", v.message
    assert "stability does not count" in v.message


def test_a_recognised_mistake_keeps_its_stability():
    # Summed, not averaged: charged by the loss test; the shift changes nothing.
    v = run_check("test_softmax_loss_vectorized_stable", InKernelStudent(
        namespace_with({"softmax_loss_vectorized": _VECTORIZED_SUMMED})))
    assert v.passed, v.message


@pytest.mark.parametrize("fn", ["softmax_loss_naive", "softmax_loss_vectorized"])
def test_a_wrong_loss_message_does_not_depend_on_how_far_it_is(fn):
    # With the returned loss known to the student, any distance from the expected
    # loss in the message (a relative error, say) gives the expected loss back.
    messages = set()
    for c in (0.5, 2.0, 2.29, 7.0, -3.0, 1e6):
        src = f"def {fn}(W, X, y, reg):\n    return {c!r}, np.zeros_like(W)\n"
        ns = namespace_with({fn: src})
        v = run_check(f"test_{fn}_loss", InKernelStudent(ns))
        assert not v.passed
        messages.add(v.message)
    assert len(messages) == 1, messages
    assert "relative error" not in messages.pop()


def test_a_random_subset_costs_the_loss_and_gradient_tests_with_its_cause_not_speed():
    # Only the large batch shows it; the speed test does not charge it again.
    failed = _failed({"softmax_loss_vectorized": MISTAKES["vectorized_random_subset"][1]})
    assert set(failed) == {"test_softmax_loss_vectorized_loss",
                           "test_softmax_loss_vectorized_grad"}, \
        {t: v.message for t, v in failed.items()}
    assert {v.mistake for v in failed.values()} == {"subset"}


@pytest.mark.parametrize("name, mistake", [("layer_class_state", "class_state"),
                                           ("layer_in_place_forward", "modifies_input")])
def test_two_layers_and_the_callers_x_are_judged(name, mistake):
    _cell, src, _test, _mistake = MISTAKES[name]
    v = run_check("test_SoftmaxWithLoss", InKernelStudent(namespace_with({"SoftmaxWithLoss": src})))
    assert not v.passed and v.mistake == mistake, v.message


def test_a_shape_error_is_named_by_behaviour_not_by_numpys_words():
    """A dropped keepdims raises on batches and runs on one example; a product with an
    untransposed X raises and runs once C = D = N. Named from that, never from the text
    NumPy puts in the error, which may change with any release."""
    ns = namespace_with({"softmax": "def softmax(x):\n"
                                    "    e = np.exp(x - np.max(x, axis=-1, keepdims=True))\n"
                                    "    return e / np.sum(e, axis=-1)\n"})
    v = run_check("test_softmax", InKernelStudent(ns))
    assert not v.passed and v.mistake == "missing_keepdims"
    assert v.raised is not None and v.raised.is_exactly(ValueError)
    ns = namespace_with({"softmax_loss_naive": (
        "def softmax_loss_naive(W, X, y, reg):\n"
        "    N = X.shape[1]\n"
        "    S = W.dot(X.T)\n"                      # X where X belongs: (C, D) . (N, D)
        "    S = S - S.max(axis=0, keepdims=True)\n"
        "    P = np.exp(S) / np.exp(S).sum(axis=0, keepdims=True)\n"
        "    loss = -np.log(P[y, np.arange(N)]).mean() + reg * np.sum(W * W)\n"
        "    P[y, np.arange(N)] -= 1\n"
        "    return loss, P.dot(X) / N + 2 * reg * W\n")})
    v = run_check("test_softmax_loss_naive_loss", InKernelStudent(ns))
    assert not v.passed and v.mistake == "transpose", (v.message, v.mistake)


def test_a_students_exception_named_like_a_builtin_names_no_mistake():
    ns = namespace_with({"softmax": "class NotImplementedError(Exception):\n    pass\n"
                                    "def softmax(x):\n    raise NotImplementedError()\n"})
    v = run_check("test_softmax", InKernelStudent(ns))
    assert not v.passed and v.mistake != "not_implemented"


def test_the_leanest_loops_fail_by_their_code_and_honest_styles_do_not():
    """A loop whose body only adds floats costs less than honest code varies by: no
    timing can fail it, the contract's "no Python loop" does, wherever it is written."""
    from autograder.assignments.softmax.samples.loops import FLOAT_SUM, ITEM_READS, LOOP_STYLES
    fn = "softmax_loss_vectorized"
    for src in (FLOAT_SUM, ITEM_READS, *LOOP_STYLES.values()):
        assert checks.loops_reached([src], fn), src
    for name, cells in STYLES.items():
        if fn in cells:
            assert checks.loops_reached(list(cells.values()), fn) == [], name
    # Where it is written does not matter: a helper of another cell, an alias of a loop
    # helper, recursion; a later definition replaces an earlier one, as when cells run.
    helper = "def _sum(v):\n    t = 0.0\n    for x in v:\n        t += x\n    return t\n"
    vec = "def softmax_loss_vectorized(W, X, y, reg):\n    return _sum(X), W\n"
    assert checks.loops_reached([helper, vec], fn) == [("_sum", 3)]
    assert checks.loops_reached([helper, "def _sum(v):\n    return v.sum()\n", vec], fn) == []
    assert checks.loops_reached(["from numpy import vectorize as vz\n", vec.replace(
        "_sum(X)", "vz(float)(X)")], fn) == [(fn, 2)]
    rec = "def _sum(v, i=0):\n    return 0.0 if i == len(v) else v[i] + _sum(v, i + 1)\n"
    assert checks.loops_reached([rec, vec], fn) == [("_sum", 1)]
    # A loop beside the function, not in what it runs, is not the function's.
    assert checks.loops_reached([vec + "for reg in (0.0, 0.1):\n    pass\n"], fn) == []


def test_a_cheap_loop_fails_the_speed_test_without_being_timed():
    from autograder.assignments.softmax.samples.loops import FLOAT_SUM

    class NoTimer:
        def timed(self, args):
            raise AssertionError("timed")
    v = run_check("test_softmax_loss_vectorized_speed",
                  InKernelStudent(namespace_with({"softmax_loss_vectorized": FLOAT_SUM})),
                  NoTimer())
    assert not v.passed and v.mistake == "loop_in_vectorized"
    assert "runs a Python loop (softmax_loss_vectorized, line 8)" in v.message, v.message


def test_vectorized_ufunc_methods_are_no_loops_and_the_standard_librarys_helpers_are():
    fn = "softmax_loss_vectorized"
    body = "def softmax_loss_vectorized(W, X, y, reg):\n    return {}, W\n"
    for honest in ("np.add.reduce(X, axis=0)", "np.maximum.accumulate(X)",
                   "np.logaddexp.reduce(X, axis=0)", "np.add.reduceat(X, [0])"):
        assert checks.loops_reached([body.format(honest)], fn) == [], honest
    for loop in ("functools.reduce(f, X)", "ft.reduce(f, X)", "reduce(f, X)", "r(f, X)",
                 "itertools.starmap(f, X)", "map(f, X)", "eval('X')", "numpy.vectorize(f)(X)"):
        src = ("import functools, itertools, numpy\nimport functools as ft\n"
               "from functools import reduce as r\n" + body.format(loop))
        assert checks.loops_reached([src], fn) == [(fn, 2)], loop
    assert checks.loops_reached(["r = np.add.reduce\n" + body.format("r(X)")], fn) == []


def test_the_loop_reading_follows_pythons_scopes_and_every_way_a_function_is_reached():
    fn = "softmax_loss_vectorized"
    looped = "def _sum(v):\n    t = 0.0\n    for x in v:\n        t += x\n    return t\n"
    vec = "def softmax_loss_vectorized(W, X, y, reg{}):\n    {}\n    return {}, W\n"
    # A name the function binds itself (a local, a parameter) is not the student's
    # helper of that name; a helper rebound to numpy's is numpy's.
    honest = [
        [looped, vec.format("", "_sum = np.exp(X)", "_sum.sum()")],
        [looped, vec.format(", _sum=None", "pass", "_sum")],
        [looped, "_sum = np.sum\n", vec.format("", "pass", "_sum(X)")],
        [vec.format("", "accumulate = X.sum()", "accumulate")],
        [looped, "R = _sum([1.0, 2.0])\n", vec.format("", "pass", "R")],
        [vec.format("", "m = max(X.shape)", "min(m, 3)")],
        [vec.format("", '"""Not a for loop, nor map(f, X)."""', "X.sum()")],
        # A built-in loop helper's name bound to a ufunc's method, or their own def.
        ["reduce = np.add.reduce\n", vec.format("", "pass", "reduce(X, axis=0)")],
        ["from numpy import maximum\naccumulate = maximum.accumulate\n",
         vec.format("", "pass", "accumulate(X)")],
        ["def map(a):\n    return 2 * a\n", vec.format("", "pass", "map(X)")],
    ]
    for cells in honest:
        assert checks.loops_reached(cells, fn) == [], cells
    # Reached through an alias, a list or dict of functions, a string looked up at run
    # time, a class, a block, a loop helper named not called, a built-in's key function.
    loops = [
        ([looped + "s = _sum\n", vec.format("", "pass", "s(X)")], ("_sum", 3)),
        ([looped + "OPS = [_sum]\n", vec.format("", "pass", "OPS[0](X)")], ("_sum", 3)),
        ([looped + "OPS = {'s': _sum}\n", vec.format("", "pass", "OPS['s'](X)")], ("_sum", 3)),
        ([looped, vec.format("", "pass", "globals()['_sum'](X)")], ("_sum", 3)),
        (["class K:\n    @staticmethod\n    def s(v):\n        return sum(x for x in v)\n",
          vec.format("", "pass", "K.s(X)")], ("K", 4)),
        (["if True:\n" + "".join("    " + l + "\n" for l in looped.splitlines()),
          vec.format("", "pass", "_sum(X)")], ("_sum", 3)),
        (["@np.vectorize\ndef e(v):\n    return v\n", vec.format("", "pass", "e(X)")], ("e", 1)),
        (["e = np.vectorize(float)\n", vec.format("", "pass", "e(X)")], ("e", 1)),
        ([vec.format("", "from functools import partial", "partial(map, float)(X)")], (fn, 3)),
        ([vec.format("", "t = sorted(y, key=float)", "t")], (fn, 2)),
        # An instance of their class made in a cell, a factory's function, an iterator
        # class (a call of their code per item), a generator's `yield from`, a module alias.
        (["class K:\n    def s(self, v):\n        return sum(x for x in v)\ninst = K()\n",
          vec.format("", "pass", "inst.s(X)")], ("K", 3)),
        ([looped + "def make():\n    return lambda v: _sum(v)\nf = make()\n",
          vec.format("", "pass", "f(X)")], ("_sum", 3)),
        (["class Rows(list):\n    def __iter__(self):\n        return self\n",
          vec.format("", "pass", "sum(Rows(X))")], ("Rows", 2)),
        (["def g(v):\n    yield from v\n", vec.format("", "pass", "sum(g(X))")], ("g", 2)),
        (["import itertools\nit = itertools\n", vec.format("", "pass", "it.starmap(f, X)")],
         (fn, 3)),
        # The contract names softmax_loss_naive: calling it counts, loops or not.
        (["def softmax_loss_naive(W, X, y, reg):\n    return 0.0, W\n",
          vec.format("", "pass", "softmax_loss_naive(W, X, y, reg)[0]")], (fn, 3)),
        ([vec.format("", "it = iter(y)", "sum(iter(lambda: next(it, None), None))")], (fn, 3)),
    ]
    for cells, where in loops:
        assert checks.loops_reached(cells, fn) == [where], cells
    # Recursion is a loop wherever the cycle closes, and only on the cycle.
    chain = "def a(v):\n    return b(v)\ndef b(v):\n    return c(v)\ndef c(v):\n    return {}\n"
    assert checks.loops_reached([chain.format("v"), vec.format("", "pass", "a(X)")], fn) == []
    assert checks.loops_reached([chain.format("b(v)"), vec.format("", "pass", "a(X)")], fn) \
        == [("b", 1), ("c", 1)]


def test_validate_reads_the_loops_the_grader_reads():
    """Validate (in the kernel) and the grader (every cell's text) find the same loops:
    a looping helper reached through another name or a decorator's object included."""
    fn = "softmax_loss_vectorized"
    looped = "def _sum(v):\n    t = 0.0\n    for x in v:\n        t += x\n    return t\n"
    vec = "def softmax_loss_vectorized(W, X, y, reg):\n    return {}, W\n"
    cases = [
        {"helper": looped + "s = _sum\n", fn: vec.format("s(X)")},
        {"helper": "import functools\n@functools.lru_cache\n" + looped, fn: vec.format("_sum(X)")},
        {"helper": looped, fn: vec.format("_sum(X)")},
        {"helper": looped + "_sum = np.sum\n", fn: vec.format("_sum(X)")},
    ]
    for cells in cases:
        grader = checks.loops_reached(list(cells.values()), fn)
        ns = namespace_with(cells)
        assert checks.loops_reached(InKernelStudent(ns).all_sources(), fn) == grader, cells
        # In a notebook's kernel, the cells as IPython recorded them are replayed too; a
        # record without them (cells run with no history kept) still leaves the objects.
        for record in (["", *cells.values()], [""]):
            ns["_ih"] = record
            assert checks.loops_reached(InKernelStudent(ns).all_sources(), fn) == grader, cells
    # An object read: the record of cells is used only when it is one.
    ns = namespace_with({fn: vec.format("X.sum()")})
    ns["_ih"] = "not a list"
    assert checks.loops_reached(InKernelStudent(ns).all_sources(), fn) == []


def test_the_loop_reading_survives_any_text_a_student_writes():
    """The reading runs in the grader's process: a cell nested deeper than the parser
    goes, or longer than any honest cell, is not read (left to the timing), and never
    raises out of the check."""
    fn = "softmax_loss_vectorized"
    vec = "def softmax_loss_vectorized(W, X, y, reg):\n    return _sum(X), W\n"
    deep = "_x = " + "-" * 200_000 + "1\n"
    assert checks.loops_reached([deep, vec], fn) == []
    assert checks.loops_reached([deep + vec], fn) == []
    long = "def _sum(v):\n    return [x for x in v]\n" + "#" * checks.MAX_READ
    assert checks.loops_reached([long, vec], fn) == []
    assert checks.loops_reached([long[:200], vec], fn) == [("_sum", 2)]


def test_a_diagnosis_that_calls_the_student_gives_copies_of_the_kept_hidden_inputs():
    """The hidden inputs are kept read-only (inputs.cases); a diagnosis that calls the
    student's own function on one (the layer's `_upstream`) gives it a copy, so a right
    softmax that works in place is read as right in the kernel, as in a jail."""
    in_place = ("def softmax(x):\n"
                "    x -= x.max(axis=-1, keepdims=True)\n"
                "    np.exp(x, out=x)\n"
                "    x /= x.sum(axis=-1, keepdims=True)\n"
                "    return x\n")
    wrong_layer = ("class SoftmaxWithLoss:\n"
                   "    def forward(self, x, t):\n"
                   "        self.y, self.t = x, t\n"
                   "        return 0.0\n"
                   "    def backward(self, dout=1):\n"
                   "        return self.y\n")
    v = run_check("test_SoftmaxWithLoss", InKernelStudent(namespace_with(
        {"softmax": in_place, "SoftmaxWithLoss": wrong_layer})))
    assert not v.passed and v.mistake != "uses_softmax", (v.mistake, v.message)

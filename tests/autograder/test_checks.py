"""The hidden checks: right for every correct solution, wrong for each mistake."""
import numpy as np
import pytest

from autograder.assignments.softmax import ASSIGNMENT, checks
from autograder.checking import run_check as _run
from autograder.hidden import InKernelStudent, LocalTimer
from autograder.assignments.softmax.samples.mistakes import MISTAKES
from autograder.assignments.softmax.samples.styles import STYLES

from .helpers import namespace_with, reference_namespace


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


def test_find_loops_sees_loops_and_loop_helpers():
    assert checks.find_loops("def f(X):\n    for i in X:\n        pass\n") == [2]
    assert checks.find_loops("def f(X):\n    return [x for x in X]\n") == [2]
    assert checks.find_loops("def f(X):\n    return np.apply_along_axis(g, 0, X)\n") == [2]
    assert checks.find_loops("def f(W, X):\n    return W @ X\n") == []


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

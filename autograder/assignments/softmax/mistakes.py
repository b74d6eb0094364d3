"""The catalogue of mistakes students really make, and how to recognise them.

Each mistake is recognised by what the function returns (or the error it
raises), never by its text: a check that fails computes what each typical
wrong version would return on the same input and names the one the student's
output matches; a few patterns across inputs (right for one example but not
a batch, right only for the notebook's sizes, values that are exactly float32)
name the rest. `HINTS` is what the student reads: the cause and what to try,
never an expected value. Measured on mechanically generated wrong versions of
the reference solutions: see `mutants.py` (`make mutants`).
"""

import numpy as np

from autograder.model import CoreMistake
from autograder.check.registry import not_written

from . import reference as ref

HINTS = {
    CoreMistake.NOT_IMPLEMENTED: "This function is not written yet: it still raises NotImplementedError. "
                       "Replace `raise NotImplementedError()` with your code.",
    "no_max_subtraction": "Overflow: np.exp of large scores gives inf, and inf/inf gives nan. "
                          "Subtract each example's maximum score before np.exp; softmax is "
                          "unchanged by a shift, and the largest exponent becomes exp(0) = 1.",
    "global_max": "Each example needs its own maximum subtracted. With one maximum for the "
                  "whole batch (or one per class), an example whose scores are far below it "
                  "has all its exponentials underflow to 0, and 0 / 0 is nan. Use "
                  "np.max(x, axis=-1, keepdims=True) for rows (N, C), and axis=0 for the "
                  "columns of W @ X (C, N).",
    "wrong_axis": "You normalized over the wrong axis. Each example (a row of x) must sum to 1 "
                  "over its classes: use axis=-1 with keepdims=True.",
    "whole_sum": "Your formula is right for one example (a 1-D x) but not for a batch: a sum "
                 "or max without axis= runs over the whole array. Reduce over the last axis "
                 "only (axis=-1, keepdims=True), so each example is normalized on its own.",
    "missing_keepdims": "The shapes do not line up: np.max or np.sum over axis=-1 drops that "
                        "axis, and an (N, C) array minus an (N,) array does not subtract per "
                        "row (it raises, or silently pairs the wrong entries when N == C). "
                        "Add keepdims=True to the reduction.",
    "not_normalized": "The probabilities do not sum to 1: divide each exponential by the SUM "
                      "of the exponentials of its example (np.sum, not np.mean or np.max).",
    CoreMistake.MODIFIES_INPUT: "Your function changed an array it was given (an in-place update such as "
                      "`x -= ...` or `W[...] = ...`). Work on new arrays: `x = x - x.max(...)`.",
    "float32": "Your result is computed in float32 (single precision, about 7 digits). Work in "
               "float64, NumPy's default: drop astype(np.float32) / dtype=np.float32. The "
               "numerical gradient checks need the extra digits.",
    "backward_whole_sum": "In the backward pass, sum(dout * y) must be taken per example "
                          "(axis=-1, keepdims=True), not over the whole batch: a formula for "
                          "one example applied to a batch.",
    "backward_wrong_axis": "In the backward pass, sum(dout * y) runs over the classes of each "
                           "example, the last axis (axis=-1, keepdims=True), not over the "
                           "examples (axis 0).",
    "backward_diag_only": "You kept only the i = j terms of the Jacobian. The i != j terms "
                          "(-y_i y_j) add up to the `- sum(dout * y)` part: "
                          "dx = y * (dout - sum(dout * y, axis=-1, keepdims=True)).",
    "backward_sign": "Sign error: dx = y * (dout - sum(dout * y, axis=-1, keepdims=True)).",
    "backward_formula": "Compare each factor with dx = y * (dout - sum(dout * y, axis=-1, "
                        "keepdims=True)): y multiplies the whole bracket, and the sum is of "
                        "dout * y.",
    "not_averaged": "The loss is N times too large: take the mean over the N examples, not the "
                    "sum.",
    "wrong_divisor": "The loss (or gradient) is divided by the wrong number. Average over the "
                     "examples only: divide by the batch size N (rows of y, columns of X; "
                     "a single example, a 1-D y, is a batch of N = 1), not by the number of "
                     "classes C or by N * C.",
    "grad_not_averaged": "The gradient is N times too large: divide the data part of the "
                         "gradient by the batch size N.",
    "reg_missing_loss": "The regularization term 0.5 * reg * np.sum(W * W) is missing from the "
                        "loss.",
    "reg_missing_grad": "The regularization gradient reg * W is missing from dW.",
    "reg_2x_loss": "You used reg * sum(W * W). This assignment's convention is "
                   "0.5 * reg * np.sum(W * W), whose gradient is simply reg * W.",
    "reg_2x_grad": "You used 2 * reg * W. With the loss 0.5 * reg * sum(W * W) the gradient "
                   "is reg * W.",
    "reg_formula": "The regularization term is off: the loss gets + 0.5 * reg * np.sum(W * W) "
                   "(a sum of squares) and dW gets + reg * W.",
    "grad_sign": "Sign error: the data gradient is (p - onehot(y)) x^T. Subtract 1 at the "
                 "correct class (p_y - 1), do not add it (1 - p_y).",
    "grad_formula": "dW is off: build it as dW = (P - Y) @ X.T / N + reg * W, with P the "
                    "(C, N) probabilities and Y the one-hot labels (subtract 1 from P at "
                    "[y, np.arange(N)]).",
    "loss_wrong_axis": "In the column layout the scores W @ X are (C, N): take the max and "
                       "the sum over the classes of each example, axis 0, not over the "
                       "examples (axis 1).",
    "loss_formula": "The loss is off: it is the mean over the N examples of -log of each "
                    "example's probability of its true class, plus 0.5 * reg * np.sum(W * W).",
    "label_offset": "The labels are off by one: y[i] (or t) is already the 0-based index of the "
                    "true class; use it as it is.",
    "index_order": "Indices in the wrong order. In the column layout the scores are (C, N): "
                   "pick the true classes with P[y, np.arange(N)] (class first, then example); "
                   "for rows (N, C) it is y[np.arange(N), t].",
    "hard_coded_size": "Your code is right for some sizes but not others: a size seems to be "
                       "written as a number (such as 10 classes or 65 features). Take every "
                       "size from the arrays: C, D = W.shape and N = X.shape[1] (or "
                       "y.shape for the layers).",
    "int_labels": "Integer labels are not handled right (one-hot ones are). t is either "
                  "one-hot (the same shape as y) or class indices of shape (N,), or a single "
                  "integer for one example; for indices pick y[np.arange(N), t], or build "
                  "one-hot rows with a 1 (exactly) at [np.arange(N), t].",
    "onehot_labels": "One-hot labels are not handled right (integer ones are): turn each "
                     "one-hot row into its class index with t.argmax(axis=1), over the "
                     "classes of each example, not over the batch.",
    "no_delta": "log(0) is -inf: add the small delta inside the log, -np.log(y + 1e-7), so a "
                "true class with probability exactly 0 gives a large but finite loss.",
    "delta_value": "The delta inside the log must be exactly 1e-7: -np.log(y + 1e-7), added to "
                   "the probability of the true class.",
    "ce_formula": "The cross-entropy is off: for each example take -log(y[label] + 1e-7) of "
                  "its true class only, then the mean over the batch.",
    "not_float": "Return the loss as a single number (for example float(loss)), not an array.",
    "backward_not_divided": "The layer's backward pass must divide by the batch size: "
                            "dx = (y - t) * dout / N.",
    "ignores_dout": "backward(dout) must multiply the gradient by dout (the chain rule); "
                    "yours ignores it.",
    "not_stored": "forward(x, t) must store the probabilities and labels in self.y and self.t; "
                  "backward uses them.",
    "layer_state": "The layer's state is off: forward(x, t) stores softmax(x) in self.y and the "
                   "labels in self.t (replacing the previous call's), and backward must not "
                   "change them: work on a copy (y - t_onehot makes a new array).",
    "layer_formula": "Check the layer step by step: forward(x, t) stores y = softmax(x) in "
                     "self.y and the labels in self.t and returns cross_entropy_error(y, t); "
                     "backward returns (y - t_onehot) * dout / N in x's shape, with t_onehot "
                     "the one-hot labels and N the batch size.",
    "uses_softmax": "Your SoftmaxWithLoss uses your softmax, which is wrong on these scores: "
                    "fix softmax (Exercise 1) first; this test may then pass as it is.",
    "uses_cross_entropy_error": "Your SoftmaxWithLoss uses your cross_entropy_error, which is "
                                "wrong on these labels: fix cross_entropy_error (Exercise 3) "
                                "first; this test may then pass as it is.",
    "loop_in_vectorized": "softmax_loss_vectorized still runs a Python loop (for, while, a "
                          "comprehension, np.vectorize or apply_along_axis). Compute all N "
                          "examples at once: W @ X, broadcasting, fancy indexing "
                          "P[y, np.arange(N)].",
    "too_slow": "softmax_loss_vectorized is not much faster than a loop over examples. "
                "Look for hidden per-example work, or an N x N intermediate.",
    "speed_wrong_result": "Speed counts only for a result that is right, or wrong only by "
                          "a mistake the loss and gradient tests recognise (and charge): fix "
                          "the loss and gradient first.",
    "grad_inconsistent": "dW does not match the numerical gradient of your own loss, so the "
                         "gradient formula is off: check dW = (1/N) (P - Y) X^T + reg * W term "
                         "by term.",
    "loss_wrong_grad_consistent": "Your dW matches the numerical gradient of your own loss, "
                                  "but the loss itself is off: fix the loss and the gradient "
                                  "will follow.",
    "transpose": "The shapes do not fit a matrix product. In the column layout X is (D, N), "
                 "one example per column (X[:, i]); the scores are W @ X (C, N) and "
                 "dW = (P - Y) @ X.T (C, D): check the order of the indices and which factor "
                 "needs .T.",
    "stability_formula": "The result is not finite here, and it is already wrong on ordinary "
                         "scores (see the loss and gradient tests): fix that first, and "
                         "subtract each example's maximum score before np.exp.",
    "stability_broken": "Stability is judged on your function's own result, and it fails on "
                        "ordinary inputs already: fix what the loss and gradient tests report "
                        "first.",
    CoreMistake.SHAPE: "The result has the wrong shape: see the shapes in the docstring (a transposed "
             "product such as X @ P.T instead of P @ X.T gives the transposed shape).",
    CoreMistake.NOT_ARRAY: "The function returned something that is not a number or a numpy array.",
    "nonfinite": "The result contains nan or inf.",
    "log_floor": "Part 3 takes the exact -log p: a floor inside the log (+ 1e-7, np.clip of "
                 "the probabilities, np.maximum, or reusing cross_entropy_error, which adds "
                 "1e-7) changes the loss of a confident prediction, right or wrong. Compute "
                 "the log-probabilities from the scores: s_y - max - log(sum(exp(s - max))).",
    "int_dtype": "Your result is wrong only when the inputs have an integer dtype (the notebook "
                 "allows any numbers): an array made with np.zeros_like / np.empty_like (or "
                 "an in-place update) keeps the input's integer dtype and drops the fractions "
                 "of what you write into it, or a branch on the dtype takes another path. "
                 "Create new arrays as float (np.zeros(W.shape), x - x.max(...)) and treat "
                 "every dtype alike.",
    "dtype_branch": "Your code gives another result for another dtype of the same numbers "
                    "(float32 scores, int32 labels): a branch on the dtype, or a conversion "
                    "that loses them. Treat every numeric dtype alike: compute in float64 "
                    "(np.asarray(x, dtype=float)) and index with the labels as they are.",
    "int_onehot": "One-hot labels made of integers (0 and 1 of an integer dtype) are not read "
                  "as one-hot: decide by the shape (t.size == y.size, as the notebook says), "
                  "not by the dtype.",
    "scalar_label": "A single label for one example (y of shape (C,)) may be a plain Python "
                    "int or a NumPy integer: turn it into an array first (np.asarray(t)) "
                    "before reshaping or indexing with it.",
    "n_equals_c": "Your code fails only when the batch size equals the number of classes "
                  "(N == C): a test such as t.shape[0] == y.shape[1] mistakes integer labels "
                  "(N,) for a one-hot row, or an axis is picked by its length. Decide one-hot "
                  "by t.size == y.size, and pick axes by position (axis=-1), not by length.",
    "batch_of_one": "Your code fails for a batch of a single example (N = 1): a squeeze, "
                    "a 0-d result indexed, or a size taken from the wrong axis. Keep the batch "
                    "axis: N = X.shape[1] (or y.shape[0] for rows).",
    "one_example_1d": "Your code fails for a single example given as a 1-D array (shape "
                      "(C,)): an axis=1, a .shape[1], a size written as a number in that "
                      "branch, or labels not reshaped with y. Make one example a batch of one "
                      "first (y.reshape(1, -1) and t with it), or reduce over axis=-1.",
    "subset": "Your result is right on small batches but wrong on a large one (N = 2000): "
              "every example must count. A random subset, the first examples only, or a "
              "branch on the batch size changes the loss and dW.",
    "stale_state": "Called again (with the same arrays, or new arrays of the same shape), "
                   "your function gives another result: something kept between calls (a "
                   "global, a default argument, a cache keyed on the shape or id) is reused. "
                   "Compute the result from the arguments every time.",
    "class_state": "Two SoftmaxWithLoss layers share their state: forward stores y and t on "
                   "the class (SoftmaxWithLoss.y, a class attribute changed in place, a "
                   "global), so a second layer overwrites the first one's. Store them on the "
                   "instance: self.y = ..., self.t = ....",
    "softmax_formula": "Compare each step with y = exp(x - max) / sum(exp(x - max)), the max "
                       "and the sum taken over the last axis of each example.",
}


def diagnose(got, variants, rtol=1e-5, atol=1e-8):
    """Name of the first variant whose output matches `got`, else None."""
    got = np.asarray(got, dtype=float)
    for name, value in variants.items():
        value = np.asarray(value, dtype=float)
        if value.shape == got.shape and np.all(np.isfinite(value)) and \
                np.allclose(got, value, rtol=rtol, atol=atol):
            return name
    return None


def is_float32(*values):
    """True when every value is exactly a float32 number and some are not round.

    A float64 computation on random inputs lands on a float32 number with
    probability ~2**-29 per value, so this names single precision, not luck.
    """
    vals = np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in values])
    vals = vals[np.isfinite(vals)]
    if vals.size == 0:
        return False
    exact32 = np.all(vals.astype(np.float32).astype(float) == vals)
    round_ = np.all(vals * 2.0 ** 12 == np.round(vals * 2.0 ** 12))
    return bool(exact32 and not round_)


def from_outcome(out):
    """A mistake named by what a failed call raised, else None.

    Read from the typed facts of the exception (Outcome.raised), never from its
    message: NumPy words its errors for people, and a rewording there must not
    change a diagnosis here. What a shape error means is read from behaviour
    instead (which inputs fail, and what the others return: see `_Failures`)."""
    return CoreMistake.NOT_IMPLEMENTED if not_written(out) else None


def raised_index_error(out):
    """True when the call itself raised an IndexError: an index out of range (NumPy's
    AxisError, a ValueError too, is an axis argument, not an index)."""
    raised = out.call_raised if out is not None else None
    return raised is not None and raised.builtin is IndexError


# ------------------------------------------------------------ Part 1


def softmax_variants(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    out = {}
    if x.ndim == 2:
        ex = np.exp(x - x.max())
        out["wrong_axis"] = ex / ex.sum(axis=0, keepdims=True)
        out["whole_sum"] = ex / ex.sum()
        if x.shape[0] == x.shape[1]:
            m = x.max(axis=-1)
            em = np.exp(x - m)                      # (N, C) - (N,) pairs m with columns
            out["missing_keepdims"] = em / em.sum(axis=-1)
            out["missing_keepdims_sum"] = e / e.sum(axis=-1)
        cm = np.exp(x - x.max(axis=0, keepdims=True))
        out["wrong_axis_max"] = cm / cm.sum(axis=-1, keepdims=True)
        out["wrong_axis_sum"] = e / e.sum(axis=0, keepdims=True)
    else:
        out["whole_sum"] = e / e.sum()
    out["not_normalized"] = e / e.mean(axis=-1, keepdims=True)
    out["not_normalized_max"] = e / e.max(axis=-1, keepdims=True)
    return out


SOFTMAX_ALIASES = {"missing_keepdims_sum": "missing_keepdims", "wrong_axis_max": "wrong_axis",
                   "wrong_axis_sum": "wrong_axis",
                   "not_normalized_max": "not_normalized"}


BACKWARD_ALIASES = {"backward_sign_plus": "backward_sign"}


def softmax_backward_variants(dout, y):
    out = {
        "backward_whole_sum": y * (dout - np.sum(dout * y)),
        "backward_diag_only": y * (1 - y) * dout,
        "backward_sign": -ref.softmax_backward(dout, y),
        "backward_sign_plus": y * (dout + np.sum(dout * y, axis=-1, keepdims=True)),
    }
    if y.ndim == 2:
        out["backward_wrong_axis"] = y * (dout - np.sum(dout * y, axis=0, keepdims=True))
        if y.shape[0] == y.shape[1]:
            out["missing_keepdims"] = y * (dout - np.sum(dout * y, axis=-1))
    return out


# ------------------------------------------------------------ Part 2


def _labels(y, t):
    return ref._as_label_index(y, t)


def cross_entropy_variants(y, t):
    y2 = np.atleast_2d(np.asarray(y, dtype=float))
    n, c = y2.shape
    lab = _labels(y, t)
    picked = y2[np.arange(n), lab]
    total = -np.sum(np.log(picked + 1e-7))
    out = {"not_averaged": total,
           "wrong_divisor": total / c,
           "wrong_divisor_nc": total / (n * c),
           "wrong_divisor_nn": total / (n * n)}
    out["label_offset"] = -np.mean(np.log(y2[np.arange(n), (lab - 1) % c] + 1e-7))
    out["label_offset_up"] = -np.mean(np.log(y2[np.arange(n), (lab + 1) % c] + 1e-7))
    with np.errstate(divide="ignore"):
        out["no_delta"] = -np.mean(np.log(picked))      # nan/inf (skipped) at a 0
    for d in (1e-3, 1e-5, 1e-8, 1e-10, 1e-12, 1e-15):
        out[f"delta_{d:g}"] = -np.mean(np.log(picked + d))
    for d in (1e-7, 1e-8, 1e-10, 1e-12, 1e-15):
        out[f"clip_{d:g}"] = -np.mean(np.log(np.clip(picked, d, 1.0)))
        out[f"clip2_{d:g}"] = -np.mean(np.log(np.clip(picked, d, 1.0 - d)))
    # every class's -log(y + 1e-7), not only the true one's
    out["ce_all_classes"] = -np.sum(np.log(y2 + 1e-7)) / n
    return out


CE_ALIASES = {"wrong_divisor_nc": "wrong_divisor", "label_offset_up": "label_offset",
              "wrong_divisor_nn": "wrong_divisor",
              **{f"delta_{d:g}": "delta_value" for d in (1e-3, 1e-5, 1e-8, 1e-10, 1e-12, 1e-15)},
              **{f"{k}_{d:g}": "delta_value" for k in ("clip", "clip2")
                 for d in (1e-7, 1e-8, 1e-10, 1e-12, 1e-15)},
              "ce_all_classes": "ce_formula"}


def layer_backward_variants(x, t, dout):
    layer = ref.SoftmaxWithLoss()
    layer.forward(x, t)
    n = np.atleast_2d(x).shape[0]
    c = np.atleast_2d(x).shape[1]
    right = layer.backward(dout)
    out = {"backward_not_divided": right * n}
    if dout != 1:
        out["ignores_dout"] = layer.backward(1)
    out["wrong_divisor"] = right * n / c
    out["wrong_divisor_nc"] = right / c
    out["grad_sign"] = -right
    return out


LAYER_ALIASES = {"wrong_divisor_nc": "wrong_divisor", "label_offset_up": "label_offset"}


# ------------------------------------------------------------ Part 3


def _loss(W, X, y, reg, *, div="n", reg_loss=0.5, reg_grad=1.0, sign=1.0, axis=0,
          label_shift=0, grad_div=None, max_axis=None, sum_axis="same", norm="sum",
          wrap=True, onehot=-1.0, reg_mean=False):
    """The loss and gradient with one convention changed: one typical mistake.

    axis: of the max and the sum (max_axis / sum_axis change one of them; sum_axis
    None sums the whole array); norm "mean": divided by the mean, not the sum;
    label_shift: labels off by one (wrapping like numpy's negative indices, or,
    with wrap=False, an indicator that never fires past the ends); onehot: what
    is added at the true class in the gradient (+1 instead of -1 is a sign slip).
    """
    C, n = W.shape[0], X.shape[1]
    divisors = {"n": n, "1": 1, "c": C, "nc": n * C}
    S = W @ X
    S = S - S.max(axis=axis if max_axis is None else max_axis, keepdims=True)
    E = np.exp(S)
    sa = axis if sum_axis == "same" else sum_axis
    Z = E.sum() if sa is None else E.sum(axis=sa, keepdims=True)
    if norm == "mean":
        Z = Z * np.size(Z) / E.size
    P = E / Z
    lab = np.asarray(y).astype(int) + label_shift
    cols = np.arange(n)
    data_loss = -np.log(P[lab % C, cols]).sum() / divisors[div]
    G = P.copy()
    keep = (lab >= 0) & (lab < C) if not wrap else np.ones(n, dtype=bool)
    G[lab[keep] % C, cols[keep]] += onehot
    dW = sign * (G @ X.T) / divisors[grad_div or div]
    penalty = np.mean(W * W) if reg_mean else np.sum(W * W)
    return data_loss + reg_loss * reg * penalty, dW + reg_grad * reg * W


def loss_variants(W, X, y, reg):
    """Loss values of typical wrong versions."""
    return {
        "not_averaged": _loss(W, X, y, reg, div="1")[0],
        "wrong_divisor": _loss(W, X, y, reg, div="c")[0],
        "wrong_divisor_nc": _loss(W, X, y, reg, div="nc")[0],
        "reg_missing_loss": _loss(W, X, y, reg, reg_loss=0.0)[0],
        "reg_2x_loss": _loss(W, X, y, reg, reg_loss=1.0)[0],
        "loss_wrong_axis": _loss(W, X, y, reg, axis=1)[0],
        "loss_wrong_axis_max": _loss(W, X, y, reg, max_axis=1)[0],
        "loss_wrong_axis_sum": _loss(W, X, y, reg, sum_axis=1)[0],
        "whole_sum": _loss(W, X, y, reg, sum_axis=None)[0],
        "not_normalized": _loss(W, X, y, reg, norm="mean")[0],
        "reg_sign_loss": _loss(W, X, y, reg, reg_loss=-0.5)[0],
        "reg_mean_loss": _loss(W, X, y, reg, reg_mean=True)[0],
        "label_offset": _loss(W, X, y, reg, label_shift=-1)[0],
        "label_offset_up": _loss(W, X, y, reg, label_shift=1)[0],
        **log_floor_variants(W, X, y, reg),
    }


def log_floor_variants(W, X, y, reg):
    """Losses with a floor inside the log: -log(p + eps), -log(clip(p, eps, 1))."""
    W, X = np.asarray(W, dtype=float), np.asarray(X, dtype=float)
    S = W @ X
    S = S - S.max(axis=0, keepdims=True)
    P = np.exp(S) / np.exp(S).sum(axis=0, keepdims=True)
    p = P[np.asarray(y).astype(int), np.arange(X.shape[1])]
    penalty = 0.5 * reg * np.sum(W * W)
    out = {}
    for eps in (1e-7, 1e-8, 1e-10, 1e-12, 1e-15, 1e-5):
        out[f"log_floor_{eps:g}"] = -np.mean(np.log(p + eps)) + penalty
        out[f"log_clip_{eps:g}"] = -np.mean(np.log(np.clip(p, eps, 1.0))) + penalty
        out[f"log_clip2_{eps:g}"] = -np.mean(np.log(np.clip(p, eps, 1.0 - eps))) + penalty
    return out


def grad_variants(W, X, y, reg):
    """dW of typical wrong versions."""
    return {
        "grad_not_averaged": _loss(W, X, y, reg, div="1")[1],
        "wrong_divisor": _loss(W, X, y, reg, div="c")[1],
        "wrong_divisor_nc": _loss(W, X, y, reg, div="nc")[1],
        "reg_missing_grad": _loss(W, X, y, reg, reg_grad=0.0)[1],
        "reg_2x_grad": _loss(W, X, y, reg, reg_grad=2.0)[1],
        "reg_grad_halved": _loss(W, X, y, reg, reg_grad=0.5)[1],
        "grad_sign": _loss(W, X, y, reg, sign=-1.0)[1],
        "loss_wrong_axis": _loss(W, X, y, reg, axis=1)[1],
        "loss_wrong_axis_max": _loss(W, X, y, reg, max_axis=1)[1],
        "loss_wrong_axis_sum": _loss(W, X, y, reg, sum_axis=1)[1],
        "whole_sum": _loss(W, X, y, reg, sum_axis=None)[1],
        "not_normalized": _loss(W, X, y, reg, norm="mean")[1],
        "reg_sign_grad": _loss(W, X, y, reg, reg_grad=-1.0)[1],
        "grad_sign_plus": _loss(W, X, y, reg, onehot=1.0)[1],
        "label_offset": _loss(W, X, y, reg, label_shift=-1)[1],
        "label_offset_up": _loss(W, X, y, reg, label_shift=1)[1],
        "label_offset_nowrap": _loss(W, X, y, reg, label_shift=1, wrap=False)[1],
        "label_offset_nowrap_down": _loss(W, X, y, reg, label_shift=-1, wrap=False)[1],
    }


LOSS_ALIASES = {"wrong_divisor_nc": "wrong_divisor", "label_offset_up": "label_offset",
                "loss_wrong_axis_max": "loss_wrong_axis", "loss_wrong_axis_sum": "loss_wrong_axis",
                "reg_sign_loss": "reg_formula", "reg_mean_loss": "reg_formula",
                "reg_sign_grad": "reg_formula", "grad_sign_plus": "grad_sign",
                "label_offset_nowrap": "label_offset", "label_offset_nowrap_down": "label_offset",
                "reg_grad_halved": "reg_formula",
                **{f"log_{k}_{e:g}": "log_floor" for k in ("floor", "clip", "clip2")
                   for e in (1e-7, 1e-8, 1e-10, 1e-12, 1e-15, 1e-5)}}


def stability_variants(W, X, y, reg):
    """(loss, dW) of wrong versions whose result moves under a shift of the scores."""
    return {"loss_wrong_axis": _loss(W, X, y, reg, axis=1),
            "loss_wrong_axis_max": _loss(W, X, y, reg, max_axis=1)}


def float32_input(got, right, rounded):
    """True when `got` is the float64 result on inputs rounded to float32: it matches
    `rounded` (the reference on rounded inputs) to 1e-12 and not `right`."""
    got, right, rounded = (np.asarray(a, dtype=float) for a in (got, right, rounded))
    return bool(got.shape == rounded.shape and np.allclose(got, rounded, rtol=1e-12, atol=0)
                and not np.allclose(got, right, rtol=1e-12, atol=0))


def as32(a):
    return np.asarray(a, dtype=np.float32).astype(float)


def label_variants_layer(x, t, dout):
    """backward of the layer with integer labels off by one."""
    out = {}
    t = np.asarray(t)
    if t.ndim == 1 and t.size != np.size(x):
        C = np.shape(x)[-1]
        for name, shift in (("label_offset", 1), ("label_offset_up", -1)):
            layer = ref.SoftmaxWithLoss()
            layer.forward(x, (t + shift) % C)
            out[name] = layer.backward(dout)
    return out


def named(name, aliases):
    """A variant's name as a hint's name."""
    return aliases.get(name, name) if name else None

"""The catalogue of mistakes students really make, and how to recognise them.

Each mistake is recognised by what the function returns, never by its text:
a check that fails computes what each typical wrong version would return on
the same input, and names the one the student's output matches.
"""
import numpy as np

from . import reference as ref

HINTS = {
    "not_implemented": "This function is not written yet: it still raises NotImplementedError. "
                       "Replace `raise NotImplementedError()` with your code.",
    "no_max_subtraction": "Overflow: np.exp of large scores gives inf, and inf/inf gives nan. "
                          "Subtract each row's maximum score before np.exp; softmax is unchanged "
                          "by a shift, and the largest exponent becomes exp(0) = 1.",
    "wrong_axis": "You normalized over the wrong axis. Each example (a row of x) must sum to 1 "
                  "over its classes: use axis=-1 with keepdims=True.",
    "whole_sum": "You normalized over the whole batch. Each example must be normalized on its "
                 "own: sum over the last axis only (axis=-1, keepdims=True).",
    "modifies_input": "Your function changed an array it was given (an in-place update such as "
                      "`x -= ...` or `W[...] = ...`). Work on new arrays: `x = x - x.max(...)`.",
    "backward_whole_sum": "In the backward pass, sum(dout * y) must be taken per example "
                          "(axis=-1, keepdims=True), not over the whole batch.",
    "backward_diag_only": "You kept only the i = j terms of the Jacobian. The i != j terms "
                          "(-y_i y_j) add up to the `- sum(dout * y)` part: "
                          "dx = y * (dout - sum(dout * y, axis=-1, keepdims=True)).",
    "backward_sign": "Sign error: dx = y * (dout - sum(dout * y, axis=-1, keepdims=True)).",
    "not_averaged": "The loss is N times too large: take the mean over the N examples, not the sum.",
    "grad_not_averaged": "The gradient is N times too large: divide the data part of the "
                         "gradient by the batch size N.",
    "reg_missing_loss": "The regularization term 0.5 * reg * np.sum(W * W) is missing from the loss.",
    "reg_missing_grad": "The regularization gradient reg * W is missing from dW.",
    "reg_2x_loss": "You used reg * sum(W * W). This assignment's convention is "
                   "0.5 * reg * np.sum(W * W), whose gradient is simply reg * W.",
    "reg_2x_grad": "You used 2 * reg * W. With the loss 0.5 * reg * sum(W * W) the gradient "
                   "is reg * W.",
    "grad_sign": "Sign error: the data gradient is (p - onehot(y)) x^T. Subtract 1 at the "
                 "correct class (p_y - 1), do not add it (1 - p_y).",
    "loss_wrong_axis": "In the column layout the scores W @ X are (C, N): normalize over the "
                       "classes, axis 0, not over the examples.",
    "int_labels": "Integer labels are not handled. t is either one-hot (the same shape as y) "
                  "or class indices of shape (N,); for indices use y[np.arange(N), t].",
    "no_delta": "log(0) is -inf, and 0 * -inf is nan: add the small delta inside the log, "
                "-np.log(y + 1e-7).",
    "backward_not_divided": "The layer's backward pass must divide by the batch size: "
                            "dx = (y - t) * dout / N.",
    "ignores_dout": "backward(dout) must multiply the gradient by dout (the chain rule); "
                    "yours ignores it.",
    "not_stored": "forward(x, t) must store the probabilities and labels in self.y and self.t; "
                  "backward uses them.",
    "loop_in_vectorized": "softmax_loss_vectorized still runs a Python loop (for, while, a "
                          "comprehension, np.vectorize or apply_along_axis). Compute all N "
                          "examples at once: W @ X, broadcasting, fancy indexing "
                          "P[y, np.arange(N)].",
    "too_slow": "softmax_loss_vectorized is not much faster than a loop over examples. "
                "Look for hidden per-example work, or an N x N intermediate.",
    "grad_inconsistent": "dW does not match the numerical gradient of your own loss, so the "
                         "gradient formula is off: check dW = (1/N) (P - Y) X^T + reg * W term "
                         "by term.",
    "loss_wrong_grad_consistent": "Your dW matches the numerical gradient of your own loss, "
                                  "but the loss itself is off: fix the loss and the gradient "
                                  "will follow.",
    "shape": "The result has the wrong shape: see the shapes in the docstring.",
    "not_array": "The function returned something that is not a number or a numpy array.",
    "nonfinite": "The result contains nan or inf.",
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


def softmax_variants(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    out = {}
    if x.ndim == 2:
        ex = np.exp(x - x.max())
        out["wrong_axis"] = ex / ex.sum(axis=0, keepdims=True)
        out["whole_sum"] = ex / ex.sum()
    else:
        out["whole_sum"] = e / e.sum()
    return out


def softmax_backward_variants(dout, y):
    return {
        "backward_whole_sum": y * (dout - np.sum(dout * y)),
        "backward_diag_only": y * (1 - y) * dout,
        "backward_sign": -ref.softmax_backward(dout, y),
    }


def cross_entropy_variants(y, t):
    y2 = np.atleast_2d(y)
    n = y2.shape[0]
    return {"not_averaged": ref.cross_entropy_error(y, t) * n}


def layer_backward_variants(x, t, dout):
    layer = ref.SoftmaxWithLoss()
    layer.forward(x, t)
    n = np.atleast_2d(x).shape[0]
    right = layer.backward(dout)
    out = {"backward_not_divided": right * n}
    if dout != 1:
        out["ignores_dout"] = layer.backward(1)
    return out


def _loss(W, X, y, reg, avg=True, reg_loss=0.5, reg_grad=1.0, sign=1.0, axis=0):
    """The loss and gradient with one convention changed: one typical mistake."""
    n = X.shape[1]
    S = W @ X
    S = S - S.max(axis=axis, keepdims=True)
    P = np.exp(S)
    P /= P.sum(axis=axis, keepdims=True)
    data_loss = -np.log(P[y, np.arange(n)]).sum()
    G = P.copy()
    G[y, np.arange(n)] -= 1.0
    dW = sign * (G @ X.T)
    if avg:
        data_loss /= n
        dW /= n
    return data_loss + reg_loss * reg * np.sum(W * W), dW + reg_grad * reg * W


def loss_variants(W, X, y, reg):
    """Loss values of typical wrong versions."""
    return {
        "not_averaged": _loss(W, X, y, reg, avg=False)[0],
        "reg_missing_loss": _loss(W, X, y, reg, reg_loss=0.0)[0],
        "reg_2x_loss": _loss(W, X, y, reg, reg_loss=1.0)[0],
        "loss_wrong_axis": _loss(W, X, y, reg, axis=1)[0],
    }


def grad_variants(W, X, y, reg):
    """dW of typical wrong versions."""
    return {
        "grad_not_averaged": _loss(W, X, y, reg, avg=False)[1],
        "reg_missing_grad": _loss(W, X, y, reg, reg_grad=0.0)[1],
        "reg_2x_grad": _loss(W, X, y, reg, reg_grad=2.0)[1],
        "grad_sign": _loss(W, X, y, reg, sign=-1.0)[1],
        "loss_wrong_axis": _loss(W, X, y, reg, axis=1)[1],
    }

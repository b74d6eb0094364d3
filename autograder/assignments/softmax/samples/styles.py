"""Correct solutions written in other styles: each must earn full marks."""

STYLES = {
    "einsum_logsumexp": {
        "softmax": '''
def softmax(x):
    m = np.max(x, axis=-1, keepdims=True)
    log_z = m + np.log(np.sum(np.exp(x - m), axis=-1, keepdims=True))
    return np.exp(x - log_z)
''',
        "softmax_backward": '''
def softmax_backward(dout, y):
    inner = np.einsum("...c,...c->...", dout, y)[..., None]
    return y * (dout - inner)
''',
        "softmax_loss_vectorized": '''
def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[1]
    S = np.einsum("cd,dn->cn", W, X)
    m = S.max(axis=0)
    lse = m + np.log(np.exp(S - m).sum(axis=0))
    loss = np.mean(lse - S[y, np.arange(N)]) + 0.5 * reg * np.einsum("cd,cd->", W, W)
    P = np.exp(S - lse)
    P[y, np.arange(N)] -= 1.0
    dW = np.einsum("cn,dn->cd", P, X) / N + reg * W
    return loss, dW
''',
    },
    "onehot_transposed": {
        "softmax": '''
def softmax(x):
    x = np.array(x, dtype=float)
    if x.ndim == 1:
        return softmax(x[None, :])[0]
    z = np.exp(x - x.max(axis=1)[:, None])
    return z / z.sum(axis=1)[:, None]
''',
        "cross_entropy_error": '''
def cross_entropy_error(y, t):
    y = np.atleast_2d(y)
    t = np.asarray(t)
    if t.ndim == 0 or (t.ndim == 1 and t.size != y.size):
        onehot = np.eye(y.shape[1])[np.atleast_1d(t)]
    else:
        onehot = t.reshape(y.shape)
    return float(-np.sum(onehot * np.log(y + 1e-7)) / y.shape[0])
''',
        "SoftmaxWithLoss": '''
class SoftmaxWithLoss:
    def __init__(self):
        self.y = self.t = None

    def forward(self, x, t):
        self.y = softmax(x)
        self.t = t
        return cross_entropy_error(self.y, t)

    def backward(self, dout=1):
        t = np.asarray(self.t)
        if t.shape != self.y.shape:
            t = np.eye(self.y.shape[-1])[t]
        # A single example (1-D y) is a batch of one: N = 1, not C.
        return dout * (self.y - t) / np.atleast_2d(self.y).shape[0]
''',
        "softmax_loss_vectorized": '''
def softmax_loss_vectorized(W, X, y, reg):
    # Work in the row layout: one example per row.
    S = X.T @ W.T                                # (N, C)
    S = S - S.max(axis=1, keepdims=True)
    P = np.exp(S)
    P /= P.sum(axis=1, keepdims=True)
    N, C = P.shape
    Y = np.eye(C)[y]
    loss = -np.sum(Y * np.log(P)) / N + 0.5 * reg * np.sum(W ** 2)
    dW = ((P - Y).T @ X.T) / N + reg * W
    return loss, dW
''',
    },
    "naive_double_loop": {
        "softmax_loss_naive": '''
def softmax_loss_naive(W, X, y, reg):
    C, D = W.shape
    N = X.shape[1]
    loss = 0.0
    dW = np.zeros((C, D))
    for i in range(N):
        scores = np.zeros(C)
        for j in range(C):
            for d in range(D):
                scores[j] += W[j, d] * X[d, i]
        scores -= np.max(scores)
        total = 0.0
        for j in range(C):
            total += np.exp(scores[j])
        loss += np.log(total) - scores[y[i]]
        for j in range(C):
            p = np.exp(scores[j]) / total
            dW[j, :] += (p - (1.0 if j == y[i] else 0.0)) * X[:, i]
    loss = loss / N + 0.5 * reg * np.sum(W * W)
    dW = dW / N + reg * W
    return loss, dW
''',
        "cross_entropy_error": '''
def cross_entropy_error(y, t):
    if y.ndim == 1:
        t = np.asarray(t).reshape(1, -1)
        y = y.reshape(1, y.size)
    if t.size == y.size:
        t = t.argmax(axis=1)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size
''',
    },
    # scipy is installed wherever the grader runs: a harmless import is graded normally.
    "scipy_logsumexp": {
        "softmax": '''
from scipy.special import logsumexp

def softmax(x):
    return np.exp(x - logsumexp(x, axis=-1, keepdims=True))
''',
        "softmax_loss_vectorized": '''
from scipy.special import logsumexp

def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[1]
    S = W @ X
    log_p = S - logsumexp(S, axis=0, keepdims=True)
    loss = -log_p[y, np.arange(N)].sum() / N + 0.5 * reg * (W ** 2).sum()
    G = np.exp(log_p)
    G[y, np.arange(N)] -= 1
    return loss, G @ X.T / N + reg * W
''',
    },
}

"""Attacks and faults, as submissions. Each must earn no undeserved point.

Code attacks are {solution id: cell source} on top of the reference cells;
notebook attacks edit the notebook itself. `expect` lists the flags the
grader must raise and the tests that must earn 0.
"""
import copy

import nbformat

from autograder.assignments.softmax.samples.mistakes import MISTAKES

CORRECT_SOFTMAX = '''
def softmax(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)
'''

CODE_ATTACKS = {
    # Monkeypatch numpy's comparisons and return garbage.
    "patch-numpy": ({"softmax": '''
np.allclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
np.array_equal = lambda *a, **k: True
def softmax(x):
    return np.zeros_like(x)
'''}, {"tampering"}, ["test_softmax"]),

    # Patch the timers, and hide a loop from the code check.
    "patch-timers": ({"softmax_loss_vectorized": '''
import time
time.perf_counter = lambda: 0.0
time.monotonic = lambda: 0.0
''' + MISTAKES["vectorized_hidden_loop"][1]},
                     {"tampering"}, ["test_softmax_loss_vectorized_speed"]),

    # An object that equals everything.
    "fake-equality": ({"softmax": '''
class Anything:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __array__(self, *a, **k): raise TypeError("not an array")
def softmax(x):
    return Anything()
'''}, set(), ["test_softmax"]),

    # An ndarray subclass that lies about equality and closeness.
    "lying-ndarray": ({"softmax": '''
class Liar(np.ndarray):
    def __eq__(self, other): return np.ones(self.shape, dtype=bool)
    def __array_function__(self, func, types, args, kwargs): return True
def softmax(x):
    return np.zeros_like(x).view(Liar)
'''}, set(), ["test_softmax"]),

    # Import the grader's reference code, read the instructor's files.
    "import-reference": ({"softmax": '''
try:
    from autograder.assignments.softmax.reference import softmax
except ImportError:
    def softmax(x):
        return x
'''}, {"tampering"}, ["test_softmax"]),

    "read-solutions": ({"softmax_backward": '''
_stolen = ""
for _p in ["{repo}/solutions/softmax/softmax.ipynb", "{repo}/autograder/assignments/softmax/reference.py"]:
    try:
        _stolen = open(_p).read()
    except OSError:
        pass
def softmax_backward(dout, y):
    return dout
'''}, {"tampering"}, ["test_softmax_backward"]),

    # Write outside the sandbox; kill the grader.
    "write-outside": ({"cross_entropy_error": '''
for _p in ["{repo}/autograder/checks.py", "{out}/grades.csv", "/tmp/pwned", "{repo}/pwned"]:
    try:
        open(_p, "w").write("pwned")
    except OSError:
        pass
def cross_entropy_error(y, t):
    return 0.0
'''}, {"tampering"}, ["test_cross_entropy_error"]),

    "kill-grader": ({"cross_entropy_error": '''
import os, signal
for _pid in (os.getppid(), 1):
    try:
        os.kill(_pid, signal.SIGKILL)
    except OSError:
        pass
def cross_entropy_error(y, t):
    return 0.0
'''}, {"tampering"}, ["test_cross_entropy_error"]),

    # Faults: the rest of the notebook must still earn its points.
    "infinite-loop": ({"softmax_backward": '''
while True:
    pass
'''}, {"timeout"}, ["test_softmax_backward"]),

    "hang-in-function": ({"softmax_loss_naive": '''
def softmax_loss_naive(W, X, y, reg):
    import time
    while True:
        time.sleep(1)
'''}, {"timeout"}, ["test_softmax_loss_naive_loss", "test_softmax_loss_naive_grad"]),

    "memory-hog": ({"cross_entropy_error": '''
def cross_entropy_error(y, t):
    hog = []
    while True:
        hog.append(np.ones(10**7))
'''}, {"memory"}, ["test_cross_entropy_error", "test_SoftmaxWithLoss"]),

    "hard-exit": ({"softmax_backward": '''
import os
os._exit(0)
'''}, {"crash"}, ["test_softmax_backward"]),

    "segfault": ({"cross_entropy_error": '''
def cross_entropy_error(y, t):
    import ctypes
    return ctypes.string_at(0)
'''}, {"crash", "tampering"}, ["test_cross_entropy_error"]),

    "huge-output": ({"softmax": CORRECT_SOFTMAX + '''
for _ in range(300):
    print("x" * 10000)
'''}, {"output_truncated"}, []),

    "fork-bomb": ({"softmax_backward": '''
import os
for _ in range(100):
    try:
        if os.fork() == 0:
            import time
            time.sleep(600)
            os._exit(0)
    except OSError:
        break
def softmax_backward(dout, y):
    return dout
'''}, {"tampering"}, ["test_softmax_backward"]),

    "exit-call": ({"softmax": '''
import sys
sys.exit("done")
'''}, set(), ["test_softmax"]),
}


def _edit_test_cell(nb):
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_softmax":
            cell.source = "pass"
    return nb


def _delete_test_cell(nb):
    nb.cells = [c for c in nb.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") != "test_softmax_backward"]
    return nb


def _relabel_test_cell(nb):
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") == "test_cross_entropy_error":
            meta["points"] = 100
        if meta.get("grade_id") == "test_SoftmaxWithLoss":
            meta["grade_id"] = "my_cell"
    return nb


def _fake_outputs(nb):
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade", False):
            cell.outputs = [nbformat.v4.new_output(
                "stream", name="stdout", text="All tests passed! 2/2 points\n")]
            cell.execution_count = 1
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "softmax":
            cell.source = "print('test_softmax passed')\ndef softmax(x):\n    return x\n"
    return nb


NOTEBOOK_ATTACKS = {
    "edit-test-cell": (_edit_test_cell, {"tampering"}, ["test_softmax"]),
    "delete-test-cell": (_delete_test_cell, {"tampering"}, ["test_softmax_backward"]),
    "relabel-test-cell": (_relabel_test_cell, {"tampering"},
                          ["test_cross_entropy_error", "test_SoftmaxWithLoss"]),
    "fake-outputs": (_fake_outputs, set(), ["test_softmax"]),
}


def code_attack(name, repo, out):
    """{cell id: source} for a code attack, with paths filled in."""
    cells, _, _ = CODE_ATTACKS[name]
    return {k: v.replace("{repo}", str(repo)).replace("{out}", str(out))
            for k, v in copy.deepcopy(cells).items()}

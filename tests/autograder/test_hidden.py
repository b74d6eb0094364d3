"""The in-kernel student (Validate) hands the student's code what a jail's worker would:
copies of the caller's arrays."""
import numpy as np

from autograder.hidden import InKernelStudent


def in_place_namespace():
    ns = {"np": np}
    exec("def f(x):\n    x *= 2\n    return x\n"
         "class L:\n    def forward(self, x):\n        x += 1\n        return x\n", ns)
    return ns


def test_a_call_gets_copies_a_change_is_still_seen_and_the_callers_array_is_kept():
    x = np.arange(3.0)
    x.flags.writeable = False            # as the kept hidden inputs are
    (out,) = InKernelStudent(in_place_namespace()).call("f", [(x,)])
    assert out.ok and np.array_equal(out.value, [0.0, 2.0, 4.0])
    assert out.modified == [True]
    assert np.array_equal(x, [0.0, 1.0, 2.0])


def test_a_layer_step_gets_copies_too():
    x = np.zeros(2)
    x.flags.writeable = False
    (out,) = InKernelStudent(in_place_namespace()).layer("L", [("forward", (x,))])
    assert out.ok and np.array_equal(out.value, [1.0, 1.0]) and out.modified == [True]
    assert np.array_equal(x, [0.0, 0.0])

"""The tamper watch notes the ways to switch it off, and honest code raises no note."""
import pytest

from autograder.assignments.softmax.samples import reference_cells
from autograder.sandbox import bwrap
from autograder.student import SandboxStudent
from tests.autograder.helpers import jail

pytestmark = pytest.mark.skipif(not bwrap.available(), reason="no working bubblewrap here")

SOFTMAX = reference_cells()["softmax"]
NOTES_FD = 5    # the worker dups 0, 1, 2 at start: the notes descriptor is the third

ATTACKS = {
    "redirect-notes": f"import os\nos.dup2(os.open(os.devnull, os.O_WRONLY), {NOTES_FD})\n",
    "close-notes": f"import os\nos.close({NOTES_FD})\n",
    "keep-then-redirect": (f"import os, gc\n_k = os.dup({NOTES_FD})\n"
                           f"os.dup2(os.open(os.devnull, os.O_WRONLY), {NOTES_FD})\n"
                           "gc.get_objects()\n"),
    "gc-objects": "import gc\n_o = gc.get_objects()\n",
    "gc-referrers": "import gc\n_r = gc.get_referrers(np)\n",
    "getframe": "import sys\n_f = sys._getframe()\n",
    "traceback-frame": "try:\n    1 / 0\nexcept ZeroDivisionError as e:\n"
                       "    _f = e.__traceback__.tb_frame\n",
    "generator-frame": "def _g():\n    yield 1\n_f = _g().gi_frame\n",
    "settrace": "import sys\nsys.settrace(None)\n",
    "inspect-currentframe": "import inspect\n_f = inspect.currentframe().f_back\n",
    "exec-getframe": "exec('import sys\\n_f = sys._getframe()')\n",
    "getframe-under-a-library-name": ("import sys, collections\n"
                                      "exec(compile('_f = sys._getframe()', collections.__file__,"
                                      " 'exec'))\n"),
    "partial-line-first": f"import os, gc\nos.write({NOTES_FD}, b'no newline')\ngc.get_objects()\n",
}


def flags_of(source):
    student = SandboxStudent([("softmax", source + SOFTMAX)], jail=jail())
    try:
        out = student.call("softmax", [([1.0, 2.0],)])
        return set(student.flags), student.suspicious.get("softmax", []), out[0]
    finally:
        student.close()


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_each_way_to_blind_the_watch_is_noted(name):
    flags, acts, out = flags_of(ATTACKS[name])
    assert "tampering" in flags and acts, (flags, acts)
    assert out.ok    # the jail still answers: only the flag is at stake


def test_honest_code_and_its_errors_raise_no_note():
    assert flags_of("")[:2] == (set(), [])
    # scipy looks at frames while it is imported: importing it is not tampering.
    assert flags_of("from scipy.special import logsumexp\n")[:2] == (set(), [])
    # Libraries that look at their caller's frame for their own ends, called by the student.
    for honest in ("import collections\nP = collections.namedtuple('P', 'a b')\n",
                   "import typing\nT = typing.TypeVar('T')\n",
                   "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
                   "plt.plot([1, 2], [3, 4]); plt.title('t'); plt.close('all')\n"):
        assert flags_of(honest)[:2] == (set(), []), honest
    flags, acts, out = flags_of("def softmax(x):\n    raise ValueError('boom')\n#")
    assert (flags, acts) == (set(), []) and "boom" in out.error and "line 2" in out.error


def test_patching_the_harness_class_changes_nothing():
    src = ("import sys\n_m = sys.modules['__main__']\n"
           "_m.Harness._guarded = lambda self, fn: ('forged', None, None, [])\n"
           "_m.describe_error = lambda *a: 'forged'\n")
    flags, _, out = flags_of(src + "def softmax(x):\n    raise ValueError('boom')\n#")
    assert "boom" in out.error and "forged" not in out.error


def test_a_patch_is_noted_in_the_call_that_made_it_after_honest_changes():
    """The check after each call compares quickly with the last clean state; a module
    that only gained an attribute (as NumPy does when it loads one lazily) is clean, and
    a patch made after that, or one made by replacing a module, is still noted."""
    src = ("_n = [0]\n"
           "def softmax(x):\n"
           "    _n[0] += 1\n"
           "    if _n[0] == 1:\n"
           "        np.an_attribute_added_honestly = 1\n"
           "    if _n[0] == 3:\n"
           "        np.allclose = lambda *a, **k: True\n"
           "    if _n[0] == 4:\n"
           "        import sys, types\n"
           "        sys.modules['math'] = types.ModuleType('math')\n"
           "    return np.asarray(x) * 0.5\n")
    student = SandboxStudent([("softmax", src)], jail=jail())
    try:
        for n in (1, 2):
            assert student.call("softmax", [([1.0, 2.0],)])[0].ok
            assert (set(student.flags), student.suspicious) == (set(), {}), n
        student.call("softmax", [([1.0, 2.0],)])
        assert "tampering" in student.flags
        assert set(student.suspicious["softmax"]) == {"patched numpy.allclose"}
        student.call("softmax", [([1.0, 2.0],)])
        assert any(a.startswith("patched math.") for a in student.suspicious["softmax"])
    finally:
        student.close()


def test_a_patch_made_by_any_call_of_a_batch_is_noted_for_that_request():
    """The watched modules are compared once a request's calls (or a layer's steps) are
    done: a patch any of them made is noted for that request, whichever call made it."""
    src = ("_n = [0]\n"
           "def softmax(x):\n"
           "    _n[0] += 1\n"
           "    if _n[0] == 2:\n"
           "        np.allclose = lambda *a, **k: True\n"
           "    return np.asarray(x) * 0.5\n"
           "class Layer:\n"
           "    def forward(self, x):\n"
           "        import math\n"
           "        math.exp = abs\n"
           "        return x\n"
           "    def backward(self, d):\n"
           "        return d\n")
    student = SandboxStudent([("softmax", src)], jail=jail())
    try:
        outs = student.call("softmax", [([1.0, 2.0],)] * 4)
        assert all(o.ok for o in outs)
        assert set(student.suspicious["softmax"]) == {"patched numpy.allclose"}
        steps = [("forward", ([1.0],)), ("backward", ([1.0],))]
        assert all(o.ok for o in student.layer("Layer", steps))
        assert set(student.suspicious["Layer"]) == {"patched math.exp"}
    finally:
        student.close()

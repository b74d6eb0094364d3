import functools
import linecache

import numpy as np

from autograder.assignments.softmax import reference


def reference_namespace():
    """A notebook namespace where every exercise holds the reference solution."""
    return {
        "np": np,
        "softmax": reference.softmax,
        "softmax_backward": reference.softmax_backward,
        "cross_entropy_error": reference.cross_entropy_error,
        "SoftmaxWithLoss": reference.SoftmaxWithLoss,
        "softmax_loss_naive": reference.softmax_loss_loop,
        "softmax_loss_vectorized": reference.softmax_loss,
    }


def namespace_with(cells):
    """Reference namespace with some cells replaced by student code."""
    ns = reference_namespace()
    for name, source in cells.items():
        filename = f"<cell {name}>"
        # As IPython does, so inspect.getsource finds the code.
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(compile(source, filename, "exec"), ns)
    return ns




@functools.cache
def bubblewrap():
    """The bubblewrap mode, made once per test process (it builds its font list once)."""
    from autograder.sandbox import modes
    return modes.select("bubblewrap")


def jail(*, unsafe=False, **settings):
    """JailSettings for a test: bubblewrap, or no jail at all when `unsafe`; the rest
    (limits, timeout, budget, secrets) as given."""
    from autograder.sandbox import JailSettings, modes
    return JailSettings(mode=modes.UNSAFE if unsafe else bubblewrap(), **settings)


def shown(path, spec):
    """A notebook file as the pipeline hands it to the course output: the outline read
    with its code (submissions.notebook.read_submission) and the folder it is in."""
    from pathlib import Path

    from autograder.submissions.notebook import Shown, read_submission
    return Shown(read_submission(path, spec, outline=True).outline, Path(path).parent)

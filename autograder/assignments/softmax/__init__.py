"""The softmax assignment: softmax, its backward pass, Softmax-with-Loss, the linear classifier.

Notebooks: solutions/softmax/softmax.ipynb (nbgrader source) and
assignments/softmax/softmax.ipynb (the release), at the repository root.
"""
from autograder.assignment import Assignment
from . import reference
from .checks import REGISTRY, prepare
from .mistakes import HINTS
from .notebooks import HERE, REPO, RELEASE, SOURCE


def _samples(folder):
    from .samples import write_samples     # nbformat: imported only for the demo
    return write_samples(folder)


ASSIGNMENT = Assignment(
    name="softmax",
    source=SOURCE,
    release=RELEASE,
    solution_ids=("softmax", "softmax_backward", "cross_entropy_error", "SoftmaxWithLoss",
                  "softmax_loss_naive", "softmax_loss_vectorized"),
    checks=REGISTRY,
    hints=HINTS,
    timer_reference=reference.softmax_loss_loop,
    samples=_samples,
    released_checksums=HERE / "released_checksums.json",
    package_dir=HERE,
    prepare=prepare,
)

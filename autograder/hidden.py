"""Hidden tests as nbgrader runs them: inside the student's kernel.

The source notebook's hidden blocks call `check("<test id>", globals())`, so
plain `nbgrader autograde` grades with the very checks that
`python -m autograder grade` runs in its sandbox. This path trusts the kernel
(nbgrader's model); the sandboxed CLI is the one to use on real submissions.
"""
import inspect
import time
import warnings
from typing import Any

import numpy as np

from threadpoolctl import threadpool_limits

from .assignment import owning
from autograder.check.registry import catalogue, run_check
from autograder.student.interface import outcome_from_reply
from autograder.wording import with_hint
from .sandbox.worker import Harness


def _cpu_seconds(fn, *args):
    """(CPU seconds, result) of fn(*args) with one BLAS thread.

    CPU time, so a busy machine moves neither side of the speed ratio; one
    BLAS thread, since extra ones would only spin on a busy core.
    """
    with threadpool_limits(1):
        start = time.process_time()
        result = fn(*args)
        return time.process_time() - start, result


def _copies(args):
    """The arguments with every array copied, as a jail's worker decodes them: the
    student's function never holds the caller's arrays (a check's input, a hidden
    case's read-only ones), so what it does to them is the same here as there."""
    return [np.array(a) if isinstance(a, np.ndarray) else a for a in args]


class InKernelStudent:
    """The student's functions from a notebook namespace, called directly."""

    def __init__(self, namespace):
        self.harness = Harness()
        self.harness.ns = namespace

    def call(self, fn, calls):
        return [outcome_from_reply(self.harness.call_one(fn, _copies(args)))
                for args in calls]

    def layer(self, cls, steps):
        steps = [[method, _copies(args), *k] for method, args, *k in steps]
        reply = self.harness.op_layer({"cls": cls, "steps": steps})
        return [outcome_from_reply(r) for r in reply["results"]]

    def cell_source(self, name):
        obj: Any = self.harness.ns.get(name)     # anything the student's cell defined
        try:
            return inspect.getsource(obj)
        except (TypeError, OSError):
            return ""

    def all_sources(self):
        """What the grader's reading of every cell sees, from the kernel: the source of
        every function and class the notebook itself defined (their globals are its
        namespace; a library's are not the student's), decorators unwrapped, with
        `name = function` for each other name a function is bound to; then the cells
        the kernel ran, in the order it ran them (IPython's `_ih`), which replay how
        names were bound (an alias, a list of functions, a later rebinding) over those.
        Both: `_ih` holds only the cells run with their history kept, and the objects
        miss what no function object shows."""
        ns = self.harness.ns
        found = []
        for key, obj in list(ns.items()):
            try:
                obj = inspect.unwrap(obj)
                mine = (inspect.isfunction(obj) and obj.__globals__ is ns) or (
                    inspect.isclass(obj) and any(inspect.isfunction(m) and m.__globals__ is ns
                                                 for m in vars(obj).values()))
                if mine:
                    found.append(inspect.getsource(obj))
                    name = obj.__name__
                    if isinstance(key, str) and key != name and key.isidentifier() \
                            and isinstance(name, str) and name.isidentifier():
                        found.append(f"{key} = {name}\n")
            except Exception:   # the student's objects: any attribute may raise
                continue
        cells = ns.get("_ih")
        if isinstance(cells, list):
            found += [c for c in cells if type(c) is str]
        return found

    def timed(self, fn, args):
        seconds, reply = _cpu_seconds(self.harness.call_one, fn, list(args), False)
        return seconds, outcome_from_reply(reply)


class LocalTimer:
    """The assignment's reference for timed checks, timed in the same process."""

    def __init__(self, reference):
        self.reference = reference

    def timed(self, args):
        return _cpu_seconds(self.reference, *args)[0]


def check(test_id, namespace):
    """Raise AssertionError (with the hint) unless the check passes.

    Warnings from the student's code are swallowed: nbgrader zeroes a cell
    that writes to stderr, and a correct solution that warns is still correct.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assignment = owning(test_id)
        verdict = run_check(assignment.checks[test_id], InKernelStudent(namespace),
                            LocalTimer(assignment.timer_reference),
                            catalogue(assignment.hints))
    if not verdict.passed:
        raise AssertionError(with_hint(verdict.message, verdict.hint))

"""What every assignment's checks are made of: the registry, the student interface, verdicts.

A check talks to the student's code only through a `student` object that
returns plain numbers (`call`, `layer`, `cell_source`, and the timing
interface of `autograder.check.timing`), so the same check runs in the student's
kernel (plain `nbgrader autograde`, through `autograder.hidden`) and against
a sandboxed worker (`python -m autograder grade`), where nothing the student
wrote can reach the comparison.

A check returns None when it passes and raises `Fail(message, mistake)`
otherwise; `mistake` names an entry of the assignment's hint table.
Messages never quote a hidden expected value.
"""
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograder.model import CoreMistake, Outcome, Raised, Verdict
from autograder.wording import failed_call

RTOL, ATOL = 1e-5, 1e-8


class Fail(Exception):
    """A check's failure: `message` for the student, `mistake` the hint table's name for it,
    `raised` what the call the message reports raised (Outcome.raised), when it reports one."""

    def __init__(self, message: str, mistake: str | None = None, *,
                 raised: Raised | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.mistake = mistake
        self.raised = raised


@dataclass(frozen=True, kw_only=True)
class Check:
    """One hidden test: the test cell it grades and the solution cell it exercises."""
    test_id: str            # grade_id of the notebook's test cell
    target: str             # grade_id of the solution cell it calls
    run: Callable           # run(student) or, when `timed`, run(student, timer);
    #                         its docstring's first line says what passing it shows
    timed: bool = False     # needs the reference timer (a speed check)
    uses: tuple[str, ...] = ()   # other solution cells the target may call (for hints)
    title: str = ""         # what reports call the test; "" for wording.py's default


class Registry:
    """The checks of one assignment, each declared once with `@registry.check(...)`."""

    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}

    def check(self, test_id: str, *, target: str, timed: bool = False,
              uses: Sequence[str] = (), title: str = "") -> Callable[[Callable], Callable]:
        """Decorator: register fn as the check of `test_id`; its docstring's first line
        says what it proves."""
        def register(fn: Callable) -> Callable:
            if test_id in self._checks:
                raise ValueError(f"check {test_id} declared twice")
            if not (fn.__doc__ or "").strip():
                raise ValueError(f"check {test_id} needs a docstring saying what it proves")
            self._checks[test_id] = Check(test_id=test_id, target=target, run=fn, timed=timed,
                                          uses=tuple(uses), title=title)
            return fn
        return register

    def __getitem__(self, test_id: str) -> Check:
        return self._checks[test_id]

    def __contains__(self, test_id: object) -> bool:
        return test_id in self._checks

    def __iter__(self) -> Iterator[Check]:
        return iter(self._checks.values())

    def __len__(self) -> int:
        return len(self._checks)

    def ids(self) -> list[str]:
        return list(self._checks)


# The hint of each core mistake when an assignment gives none of its own.
CORE_HINTS: dict[str, str] = {
    CoreMistake.NOT_IMPLEMENTED: "This function is not written yet: it still raises "
                                 "NotImplementedError. Replace that line with your code.",
    CoreMistake.NOT_ARRAY: "The function returned something that is not a number or a numpy "
                           "array.",
    CoreMistake.SHAPE: "The result has the wrong shape: see the shapes the function's "
                       "docstring gives.",
    CoreMistake.MODIFIES_INPUT: "Your function changed an array it was given (an in-place "
                                "update): work on new arrays instead.",
}


def catalogue(hints: Mapping[str, str]) -> dict[str, str]:
    """An assignment's hints {mistake name: text} merged over the core's defaults."""
    return {**CORE_HINTS, **hints}


def run_check(check: Check, student: Any, timer: Any = None,
              hints: Mapping[str, str] | None = None) -> Verdict:
    """Run one Check; any failure, in the check or the student, is a Verdict.

    `hints` maps a mistake name to the text shown to the student.
    """
    try:
        with np.errstate(all="ignore"):
            message = check.run(student, timer) if check.timed else check.run(student)
        return Verdict(True, message if isinstance(message, str) else "")
    except Fail as f:
        return Verdict(False, f.message, f.mistake,
                       (hints or {}).get(f.mistake) if f.mistake else None, raised=f.raised)


# ------------------------------------------------------------ comparisons


def not_written(out: Outcome | None) -> bool:
    """True when the call itself raised NotImplementedError (the exercise's placeholder)."""
    raised = out.call_raised if out is not None else None
    return raised is not None and raised.is_a(NotImplementedError)


def require_ok(out: Outcome, what: str) -> None:
    """The call returned; else Fail with what it raised."""
    if not out.ok:
        raise Fail(failed_call(what, out),
                   CoreMistake.NOT_IMPLEMENTED if not_written(out) else None, raised=out.raised)


def as_array(out: Outcome, what: str, shape: Sequence[int]) -> np.ndarray:
    """The returned value as a float array of `shape`, else Fail."""
    require_ok(out, what)
    v = out.value
    if isinstance(v, dict) or isinstance(v, list) or v is None:
        kind = v.get("__bad__") if isinstance(v, dict) else type(v).__name__
        raise Fail(f"{what} returned a {kind}, not a numpy array", CoreMistake.NOT_ARRAY)
    a = np.asarray(v, dtype=float)
    if a.shape != tuple(shape):
        raise Fail(f"{what} returned shape {a.shape}; expected {tuple(shape)}", CoreMistake.SHAPE)
    return a


def unmodified(out: Outcome, what: str) -> None:
    if any(out.modified):
        raise Fail(f"{what} changed its input arrays", CoreMistake.MODIFIES_INPUT)


def close(got: Any, want: Any, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """`got` has `want`'s shape, is finite, and is within atol + rtol |want| of it:
    np.allclose's test on a finite `got` (a non-finite `want` is never close), in a
    third of its time (the checks compare some thousand results a student)."""
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    return got.shape == want.shape and bool(np.isfinite(got).all()) and \
        bool(np.isfinite(want).all()) and \
        bool((np.abs(got - want) <= atol + rtol * np.abs(want)).all())


def rel_error(a: Any, b: Any) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def nonfinite(got: Any) -> bool:
    return not np.all(np.isfinite(np.asarray(got, dtype=float)))

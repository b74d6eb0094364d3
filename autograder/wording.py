"""The one place that words the grader's facts for people: a flag's sentence, a test's
title, a verdict line, when a result is shown, a missing name's cause, a call that did
not return.

Everything else passes typed facts (model.py) and asks here for the words, so a
rewording changes what people read and nothing else: no grade, hint choice or cache
decision reads these strings back. (A check's own message, and the hints of an
assignment's mistakes, are the assignment's words.)
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from autograder.model import Flag, Outcome, Spec, TestCell, TestResult, Visibility

# Every Flag has its sentence (a test keeps it so).
FLAG_TEXT: Mapping[Flag, str] = {
    Flag.TIMEOUT: "Some of your code ran past the time limit and was stopped.",
    Flag.MEMORY: "Some of your code ran out of memory.",
    Flag.CRASH: "Some of your code crashed the Python process.",
    Flag.INVALID_NOTEBOOK: "The notebook file could not be read.",
    Flag.MISSING_NOTEBOOK: "No notebook was found in your submission.",
    Flag.TAMPERING: "A graded test cell was changed, deleted or re-labelled; those tests earn "
                    "no points.",
    Flag.OUTPUT_TRUNCATED: "Your code printed more than 1 MB; the rest was discarded.",
    Flag.SYMLINK: "The submission is a symbolic link, which the grader does not follow; "
                  "submit the notebook file itself.",
    Flag.NO_SUBMISSION: "No submission of yours was found (you are on the course roster).",
}

# A flag raised while code ran means something else than the same flag found in the
# notebook (tampering: an act of the code, not an edited test cell).
WHILE_RUNNING: Mapping[Flag, str] = {
    Flag.TAMPERING: "Your code tried something the grader does not allow; the tests of its "
                    "cell earn no points.",
}

# When a result at each visibility is shown to the student.
WHEN: Mapping[Visibility, str] = {
    Visibility.VISIBLE: "now",
    Visibility.AFTER_DUE_DATE: "after the due date",
    Visibility.AFTER_PUBLISHED: "when grades are published",
    Visibility.HIDDEN: "to the course staff only",
}


def flag_text(flag: str) -> str:
    """The sentence of `flag` (a stored result may hold a flag this version lacks: as is)."""
    return FLAG_TEXT.get(flag, flag)     # type: ignore[call-overload]


def flag_sentences(flags: Iterable[str], *, running: bool = True) -> list[str]:
    """One sentence per flag; `running`: raised while the student's code ran."""
    return [(WHILE_RUNNING.get(f) if running else None)  # type: ignore[call-overload]
            or flag_text(f) for f in flags]


def title(cell: TestCell) -> str:
    """What reports call a test: its check's declared title, else made from its grade_id and
    target: test_<target> -> '<target>', test_<target>_<aspect> -> '<target>: <aspect>',
    any other grade_id without its `test_`."""
    if cell.title:
        return cell.title
    name = cell.grade_id.removeprefix("test_")
    target = cell.target
    if target and name == target:
        return target
    if target and name.startswith(target + "_"):
        return f"{target}: {name[len(target) + 1:]}"
    return name


def titles(spec: Spec | None) -> dict[str, str]:
    """{grade_id: title} of every test of `spec` (empty for None)."""
    return {t.grade_id: title(t) for t in spec.tests} if spec is not None else {}


def title_of(grade_id: str, spec: Spec | None = None) -> str:
    """The title of the test `grade_id` of `spec`; a grade_id `spec` lacks (or no spec) is
    titled from its grade_id alone."""
    cell = next((t for t in spec.tests if t.grade_id == grade_id), None) if spec else None
    return title(cell or TestCell(grade_id, 0.0, (), target=""))


def verdict_line(t: TestResult) -> str:
    """One test's verdict as nbgrader shows it (formgrader's comment, the autograded
    notebook's output): `<grade_id>: <points> / <max> passed|failed[: message]`, and the
    hint on a line of its own."""
    head = f"{t.grade_id}: {t.points:g} / {t.max_points:g}"
    if t.passed:
        return f"{head} passed"
    return f"{head} failed" + (f": {t.message}" if t.message else "") + \
        (f"\n  Hint: {t.hint}" if t.hint else "")


def with_hint(text: str, hint: str | None) -> str:
    """`text`, and the hint on a line of its own."""
    return text + (f"\nHint: {hint}" if hint else "")


def outcome_text(t: TestResult) -> str:
    """A test's result under a heading that already names it and its points (a Gradescope
    entry): the message, else passed or failed, and the hint."""
    return with_hint(t.message or ("passed" if t.passed else "failed"), t.hint)


def lacking_name(message: str, why: str) -> str:
    """A failure `message` whose cause is a name the grader does not run; `why` says why."""
    return f"{message}. {why}"


# ------------------------------------------------------------ a call that did not return


def stopped_text(reason: str, detail: str) -> str:
    """The grader stopped a call (its worker died, hung or forged a reply)."""
    return f"the call was stopped: {reason} ({detail})"


def cell_failed_text(cell_error: str) -> str:
    """A function whose cell failed when run."""
    return f"its cell failed when run: {cell_error}"


def cell_fault(reason: str, detail: str) -> str:
    """Why a cell that hung or killed its worker is not run again."""
    return f"fault: {reason} ({detail})"


def failed_call(what: str, out: Outcome) -> str:
    """How a check tells a call `what` whose Outcome `out` is not ok: what it raised, or,
    from the Outcome's typed causes, that the grader stopped it or its cell failed."""
    if out.stopped is not None:
        return f"{what} was stopped by the grader: {out.stopped.reason} ({out.stopped.detail})"
    if out.cell_error is not None:
        return f"{what} could not run: {cell_failed_text(out.cell_error)}"
    return f"{what} raised {out.error}"

"""The grader's nouns: its vocabulary (typed names) and the records the stages pass on.

No logic and no import from the project: every stage may import it, and it
imports none. Each flag, visibility, outcome kind and sandbox mode is declared
here once, as a `StrEnum` member: a member *is* its string, so results JSON,
grades.csv and everything stored before read and write the same bytes. Words
for people (a flag's sentence, a test's title, a verdict line) are made in
`autograder.wording`, never here.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Flag(StrEnum):
    """What went wrong on a student's row beyond a test's verdict (grades.csv's `flags`)."""
    TIMEOUT = "timeout"                    # code ran past a time limit or the student's budget
    MEMORY = "memory"                      # code ran out of memory
    CRASH = "crash"                        # code killed the worker, or forged its reply
    INVALID_NOTEBOOK = "invalid_notebook"  # the notebook could not be read
    MISSING_NOTEBOOK = "missing_notebook"  # no notebook in the submission
    TAMPERING = "tampering"                # a test cell edited, or code tried what is refused
    OUTPUT_TRUNCATED = "output_truncated"  # more than 1 MB printed, or a file over the limit
    SYMLINK = "symlink"                    # the submission is a symbolic link
    NO_SUBMISSION = "no_submission"        # a --roster student with no folder


# Flags that come from running the student's code (the class report groups by them).
RUN_FLAGS: frozenset[Flag] = frozenset({Flag.TIMEOUT, Flag.MEMORY, Flag.CRASH})
# Flags that leave no notebook to show (formgrader's copy, PrairieLearn's files).
UNREADABLE: frozenset[Flag] = frozenset({Flag.MISSING_NOTEBOOK, Flag.INVALID_NOTEBOOK,
                                         Flag.SYMLINK})


class Visibility(StrEnum):
    """Gradescope's visibility values, from most to least shown (the order is meant)."""
    VISIBLE = "visible"                  # as soon as the submission is graded
    AFTER_DUE_DATE = "after_due_date"    # once the (late) due date has passed
    AFTER_PUBLISHED = "after_published"  # once the instructor publishes the grades
    HIDDEN = "hidden"                    # never, to students


class OutcomeKind(StrEnum):
    """Why one call of student code did not return (Outcome.kind; None when it did).

    The jailed worker (`sandbox/worker.py`, stdlib only, bound into the jail alone)
    sends the first four on the wire; a test keeps its spellings equal to these."""
    EXCEPTION = "exception"    # the code raised
    MEMORY = "memory"          # the code raised MemoryError
    MISSING = "missing"        # the function or class is not defined
    ASSERT = "assert"          # a notebook check's assert failed (notebook_checks)
    FAULT = "fault"            # the grader stopped the call: the worker died or hung (`stopped`)


class CoreMistake(StrEnum):
    """The mistakes the core's own comparisons name (check/registry.py). Every assignment's
    hint catalogue has a hint for each: the core's default unless it gives its own."""
    NOT_IMPLEMENTED = "not_implemented"    # the function still raises NotImplementedError
    NOT_ARRAY = "not_array"                # it returned no number or array
    SHAPE = "shape"                        # an array of the wrong shape
    MODIFIES_INPUT = "modifies_input"      # it changed an array it was given


# The mistake of a test that failed only because the code used a name the grader does
# not run (StudentResult.unavailable): the cause is the notebook, not the formula. Its
# message says that cause, so it has no hint.
UNAVAILABLE_NAME = "name_the_grader_lacks"


class SandboxMode(StrEnum):
    """How student code is jailed (sandbox/modes.py)."""
    AUTO = "auto"              # bubblewrap when it works here
    BUBBLEWRAP = "bubblewrap"
    CONTAINER = "container"    # as root where namespaces are refused: a uid per slot
    UNSAFE = "unsafe"          # no jail: only through --unsafe-no-sandbox, never --sandbox


# What --sandbox accepts (plain strings: argparse shows a choice's repr in its errors).
SANDBOX_CHOICES: tuple[str, ...] = tuple(m.value for m in SandboxMode if m is not SandboxMode.UNSAFE)


# Where a flag was first raised (StudentResult.raised): while the notebook was read,
# before any student code ran; while the student's cells first ran, before any check;
# else the grade_id of the test whose check was running. What it may reveal, and so
# when a student may see it, follows from there (see report/visibility.py).
READING = "reading"
STARTUP = "startup"


# ------------------------------------------------------------ what is graded


@dataclass(frozen=True)
class TestCell:
    """One graded test cell of the assignment's notebook."""
    __test__ = False   # not a pytest test class

    grade_id: str
    points: float
    checksums: tuple[str, ...]   # of the released cell, as nbgrader computes it (every release)
    target: str                  # grade_id of the solution cell its check exercises
    title: str = ""              # what reports call it; "" for wording.py's default


@dataclass(frozen=True)
class Spec:
    """What is graded: plain data read from the assignment's notebooks."""
    name: str
    solution_ids: tuple[str, ...]
    tests: tuple[TestCell, ...]      # in notebook order

    @property
    def max_score(self) -> float:
        return sum(t.points for t in self.tests)


# ------------------------------------------------------------ one call, one check


@dataclass(frozen=True)
class Stopped:
    """The grader stopped a call: its worker died, hung or forged a reply."""
    reason: Flag       # the flag it raised
    detail: str        # e.g. "no answer within 30 s"


@dataclass(frozen=True)
class Raised:
    """What a student's call raised, as facts the jailed worker read off the exception
    object (`sandbox/worker.exception_facts`), never off its message: decisions read
    these; the message (`Outcome.error`) is only shown to people."""
    type_name: str                              # its class's own name
    bases: tuple[type[BaseException], ...]      # the built-in exception classes it
                                                # derives from, most derived first
    name: str | None = None                     # the name a NameError or AttributeError missed
    on: str | None = None                       # the type of the object an AttributeError
                                                # looked on ("NoneType" for None)

    def is_a(self, cls: type[BaseException]) -> bool:
        """True when it derives from the built-in exception class `cls`."""
        return cls in self.bases

    def is_exactly(self, cls: type[BaseException]) -> bool:
        """True when it is the built-in class `cls` itself, not a subclass (NumPy's
        AxisError is a ValueError, but not exactly one)."""
        return self.bases[:1] == (cls,) and self.type_name == cls.__name__

    @property
    def builtin(self) -> type[BaseException] | None:
        """Its most derived built-in exception class (ValueError for NumPy's AxisError)."""
        return self.bases[0] if self.bases else None


@dataclass
class Outcome:
    """What one call of student code produced, as plain data.

    `error` is the student's own exception as the worker described it, for people;
    `raised` is what decisions read of it (what the function's cell raised, when
    `cell_error` says the cell failed). Two causes the grader knows are typed, never
    folded into that text: `stopped` (the grader stopped the call) and `cell_error` (the
    function's cell failed when run, and why)."""
    ok: bool
    value: Any = None
    error: str = ""
    kind: OutcomeKind | None = None
    modified: list[bool] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    stopped: Stopped | None = None
    cell_error: str | None = None
    raised: Raised | None = None

    @property
    def call_raised(self) -> Raised | None:
        """What the call itself raised: `raised`, unless it is its cell's (`cell_error`)."""
        return self.raised if self.cell_error is None else None


@dataclass
class Verdict:
    """One check's decision: passed, or failed with a message and a mistake's name.
    `raised`: what the call the message reports raised, when it reports one."""
    passed: bool
    message: str = ""
    mistake: str | None = None
    hint: str | None = None
    raised: Raised | None = None


# ------------------------------------------------------------ a student's result


@dataclass
class TestResult:
    __test__ = False   # not a pytest test class

    grade_id: str
    points: float
    max_points: float
    passed: bool
    message: str = ""
    mistake: str | None = None
    hint: str | None = None
    internal: bool = False      # the grader failed on this test: not the student's result
    settled: bool = False       # decided before any student code ran (no notebook, edited cell)


@dataclass
class NotebookCheck:
    """The checks of one graded test cell as the student's notebook has them (its
    asserts, what the check cell and Validate show), run in a jail of their own
    that never receives a hidden input (see autograder.check.notebook_checks)."""
    grade_id: str
    passed: bool
    message: str = ""


@dataclass
class StudentResult:
    student_id: str
    notebook_sha256: str
    grader: str
    tests: list[TestResult] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    problem: str = ""
    timings: dict[str, float] = field(default_factory=dict)   # seconds per phase (`make bench`)
    raised: dict[str, str] = field(default_factory=dict)      # flag -> READING, STARTUP or a grade_id
    notebook_checks: list[NotebookCheck] = field(default_factory=list)   # when run
    notebook_flags: list[Flag] = field(default_factory=list)  # flags of their own jail
    unavailable: dict[str, str] = field(default_factory=dict)  # name -> why the grader lacks it
    # The grader's own machinery failed on the whole row (`problem` says how). Declared,
    # never read from `problem`: a student's text there (a notebook's format field) could
    # say "internal error" too.
    internal: bool = False

    @property
    def internal_error(self) -> bool:
        """True when the grader failed on some test (the result is not to be reused)."""
        return self.internal or any(t.internal for t in self.tests)

    @property
    def score(self) -> float:
        return round(sum(t.points for t in self.tests), 6)

    @property
    def max_score(self) -> float:
        return round(sum(t.max_points for t in self.tests), 6)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StudentResult:
        d = dict(d)
        d["tests"] = [TestResult(**t) for t in d.get("tests", [])]
        d["notebook_checks"] = [NotebookCheck(**c) for c in d.get("notebook_checks", [])]
        return cls(**d)

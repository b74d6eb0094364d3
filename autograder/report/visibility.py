"""What a student may see of a StudentResult, and when: the one policy every report to
students follows (Gradescope's results.json; any other LMS report reuses `plan`).

The rule: nothing the student's code can cause is shown before the checks it may
depend on are shown. A student who can see something at once that depends on a
hidden check's verdict can resubmit to learn that verdict, one bit a submission.
So, whatever the Policy:

- shown at once (VISIBLE) is only what is settled before any of the student's code
  ran (no notebook, an unreadable one, an edited test cell, a name the grader does not
  run, that is `READING` flags and `settled` tests) and the notebook checks, which run
  in a jail of their own that never gets a hidden input (`autograder.check.notebook_checks`),
  with that jail's own flags;
- each graded test cell's hidden tests are one item at the test's visibility, carrying
  everything raised while its check ran: the verdict, its message and hint, the flags
  first raised then (more than 1 MB of output, tampering, a timeout, a crash) and an
  internal grader error;
- flags raised while the student's cells first ran, before any check, are one item as
  late as the latest test;
- nothing shown earlier counts, sums or names anything shown later (the summary counts
  only items that are shown now).

Gradescope's specification adds that students do not see their total score while
test cases are hidden.
"""
from dataclasses import dataclass, field
from enum import Enum
from typing import Mapping

from autograder.model import READING, STARTUP, Visibility
from autograder.wording import WHEN, flag_sentences, outcome_text, title_of, titles

ORDER = tuple(Visibility)


def latest(visibilities):
    return max(visibilities, key=ORDER.index, default=Visibility.VISIBLE)


class Part(str, Enum):
    """Which part of the result an item shows."""
    NOTEBOOK = "notebook"       # a test cell's checks as the notebook has them
    HIDDEN = "hidden"           # a test cell's hidden tests
    PROBLEMS = "problems"       # what happened while the student's cells first ran


@dataclass(frozen=True)
class Policy:
    """When students see each part. Set in gradescope.toml (see gradescope/config.py)."""
    hidden_tests: Visibility = Visibility.AFTER_DUE_DATE   # a test cell with hidden tests
    visible_tests: Visibility = Visibility.VISIBLE         # one whose asserts are all shown
    notebook_checks: Visibility = Visibility.VISIBLE
    # Share of each test cell's points given by its notebook checks (0: none). They
    # can be passed by returning the answers printed in the notebook: see README.
    notebook_share: float = 0.0
    tests: Mapping = field(default_factory=dict)           # grade_id -> Visibility

    def of_test(self, grade_id, has_hidden_tests):
        if grade_id in self.tests:
            return Visibility(self.tests[grade_id])
        return self.hidden_tests if has_hidden_tests else self.visible_tests


@dataclass(frozen=True)
class Item:
    """One thing shown to the student (a Gradescope test entry)."""
    grade_id: str           # the test cell, or "" for PROBLEMS
    part: Part
    title: str
    score: float
    max_score: float
    passed: bool
    text: str
    visibility: Visibility


@dataclass(frozen=True)
class Plan:
    now: tuple              # lines of the summary, shown at once
    items: tuple            # Item, in notebook order
    score: float            # the sum of every item's score
    # The lines of `now` settled before the student's code ran, or by the notebook
    # checks' own jail (for a report that words the rest its own way: PrairieLearn's).
    facts: tuple = ()

    def shown_at(self, visibility):
        return [i for i in self.items if i.visibility == visibility]


def _points(x):
    return f"{x:g}"


def _hidden_text(t, flags):
    text = outcome_text(t)
    if flags:
        text += "\nWhile this test ran: " + " ".join(flag_sentences(flags))
    return text


def plan(result, policy=Policy(), hidden_cells=None, *, spec=None):
    """The Plan of `result`: what is shown, when, and for how many points.

    `hidden_cells`: grade_ids of the test cells with hidden tests (None: all of them).
    `spec`: the assignment's Spec, whose test cells give the titles (None: each test is
    titled from its grade_id alone).
    """
    named = titles(spec)
    share = policy.notebook_share if result.notebook_checks else 0.0
    notebook = {c.grade_id: c for c in result.notebook_checks}
    raised_in: dict[str, list[str]] = {}
    for flag, where in result.raised.items():
        raised_in.setdefault(where, []).append(flag)
    items = []
    for t in result.tests:
        hidden = hidden_cells is None or t.grade_id in hidden_cells
        title = named.get(t.grade_id) or title_of(t.grade_id)
        if t.grade_id in notebook:
            c = notebook[t.grade_id]
            pts = round(share * t.max_points, 6)
            items.append(Item(t.grade_id, Part.NOTEBOOK, f"{title}: checks in your notebook",
                              pts if c.passed else 0.0, pts, c.passed,
                              c.message or "passed", policy.notebook_checks))
        rest = round(t.max_points * (1 - share), 6)
        items.append(Item(t.grade_id, Part.HIDDEN,
                          f"{title}: hidden tests" if hidden and notebook else title,
                          rest if t.passed else 0.0, rest, t.passed,
                          _hidden_text(t, raised_in.get(t.grade_id, [])),
                          policy.of_test(t.grade_id, hidden)))
    late = [i.visibility for i in items if i.part is Part.HIDDEN]
    if raised_in.get(STARTUP):
        items.append(Item("", Part.PROBLEMS, "Problems while running your code", 0.0, 0.0,
                          False, "\n".join(flag_sentences(raised_in[STARTUP])), latest(late)))
    facts = _facts(result, raised_in.get(READING, []), named)
    return Plan(tuple(_summary(result, items, facts)), tuple(items),
                round(sum(i.score for i in items), 6), tuple(facts))


def _facts(result, reading_flags, named):
    """What is settled before any of the student's code ran, or by the notebook checks."""
    if result.problem:
        # Nothing ran, so nothing here can map a hidden test.
        return [f"Not graded: {result.problem}."]
    lines = flag_sentences(reading_flags, running=False)
    lines += [f"{named.get(t.grade_id) or title_of(t.grade_id)}: {t.message}"
              for t in result.tests if t.settled]
    lines += [f"`{name}` is not run by the grader: {why}"
              for name, why in sorted(result.unavailable.items())]
    if result.notebook_flags:
        lines.append("While the checks in your notebook ran: "
                     + " ".join(flag_sentences(result.notebook_flags)))
    return lines


def _summary(result, items, lines):
    """The lines shown at once: settled facts, and counts of what is shown now only."""
    if result.problem:
        return lines
    now = [i for i in items if i.visibility is Visibility.VISIBLE]
    late = [i for i in items if i.visibility is not Visibility.VISIBLE]
    if not late:
        return [f"Score: {_points(sum(i.score for i in items))} / "
                f"{_points(sum(i.max_score for i in items))}"] + lines
    checks = [i for i in now if i.part is Part.NOTEBOOK]
    head = []
    if checks:
        head.append(f"Checks in your notebook: {sum(i.passed for i in checks)} of "
                    f"{len(checks)} test cells pass.")
    graded = [i for i in now if i.part is not Part.NOTEBOOK or i.max_score]
    if graded and any(i.max_score for i in graded):
        head.append(f"Tests shown now: {_points(sum(i.score for i in graded))} / "
                    f"{_points(sum(i.max_score for i in graded))} points.")
    for vis in ORDER[1:]:
        group = [i for i in late if i.visibility is vis and i.part is Part.HIDDEN]
        if group:
            head.append(f"{len(group)} tests ({_points(sum(i.max_score for i in group))} "
                        f"points) use hidden inputs: their results are shown {WHEN[vis]}.")
    return head + lines

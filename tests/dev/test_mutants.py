"""Mutation testing of the hidden checks (a representative subset; `make mutants` runs all)."""
import io

import pytest

from dev import mutants as mt
from autograder.assignments.softmax.mistakes import HINTS

ALL = mt.all_mutants()


def test_at_least_150_mutants_spread_over_the_six_exercises():
    assert len(ALL) >= 150
    per_cell = {c: sum(m.cell == c for m in ALL) for c in mt.CELLS}
    assert all(n >= 8 for n in per_cell.values()), per_cell


def test_mutants_are_distinct_and_compile():
    assert len({m.ident for m in ALL}) == len(ALL)
    assert len({(m.cell, m.source) for m in ALL}) == len(ALL)
    for m in ALL:
        compile(m.source, m.ident, "exec")


def test_every_equivalent_mutant_still_exists():
    # A stale entry would hide nothing, but would make the list lie.
    assert set(mt.EQUIVALENT) <= {m.ident for m in ALL}


def test_every_accepted_mistake_has_a_hint():
    for names in list(mt.ACCEPT.values()) + list(mt.FORMULA.values()) + [mt.NEUTRAL]:
        assert names <= set(HINTS), names - set(HINTS)


@pytest.fixture(scope="module")
def subset():
    out = io.StringIO()
    summary = mt.run(mt.sample(ALL, 1, seed=0), out=out)
    return summary, out.getvalue()


def test_subset_covers_every_class_of_every_exercise(subset):
    summary, _ = subset
    assert summary["mutants"] >= 50
    assert {(m.cell, m.klass) for m in ALL} == \
        {(m.cell, m.klass) for m in mt.sample(ALL, 1, seed=0)}


def test_every_non_equivalent_mutant_loses_points(subset):
    summary, report = subset
    assert summary["survivors"] == [], report
    assert summary["equivalent_killed"] == [], report


def test_hints_name_the_mutation_class(subset):
    summary, report = subset
    assert summary["hint_accuracy"] >= 0.9, report
    assert summary["contradicting"] == [], report


def test_report_prints_score_accuracy_and_survivors(subset):
    _, report = subset
    assert "mutation score:" in report and "hint accuracy:" in report

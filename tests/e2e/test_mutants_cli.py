"""Mutants graded end to end by the sandboxed CLI get the in-kernel verdicts."""
import pytest

from dev import mutants as mt

pytestmark = pytest.mark.slow


def test_cli_agrees_with_the_in_kernel_verdicts_on_mutants(tmp_path):
    # One mutant of each exercise, plus the layer's state and the speed check's
    # fallback to the naive version, which the sandbox reaches by other paths.
    picked = mt.sample([m for m in mt.all_mutants() if m.ident not in mt.EQUIVALENT],
                       1, seed=5)
    by_cell = {}
    for m in picked:
        by_cell.setdefault(m.cell, m)
    extra = [m for m in picked if m.klass in ("state", "in_place") and m.cell == "SoftmaxWithLoss"]
    extra += [m for m in picked if m.cell == "softmax_loss_vectorized" and m.klass == "divisor"]
    chosen = list(by_cell.values()) + extra[:2]
    assert {m.cell for m in chosen} == set(mt.CELLS)
    assert mt.cli_agreement(chosen, tmp_path) == []

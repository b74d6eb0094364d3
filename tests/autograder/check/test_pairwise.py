"""All-pairs covering sets: every required pair covered, impossible cases never made."""
from itertools import product

from autograder.check.pairwise import Dimensions, covering, pairs_of, uncovered


def test_every_pair_is_covered_with_far_fewer_cases_than_all_combinations():
    dims = Dimensions({"a": (1, 2, 3, 4), "b": "xyz", "c": (True, False), "d": (0, 1, 2)})
    cases = covering(dims)
    assert uncovered(dims, cases) == set()
    assert len(cases) < len(list(product(*dims.values.values()))) / 4
    assert len(cases) >= 4 * 3          # at least the product of the two largest


def test_invalid_combinations_are_never_made_and_their_pairs_not_required():
    dims = Dimensions({"shape": ("1-D", "batch"), "label": ("scalar", "indices")},
                      valid=lambda c: not (c["shape"] == "batch" and c["label"] == "scalar"))
    cases = covering(dims)
    assert all(dims.valid(c) for c in cases)
    assert (("label", "scalar"), ("shape", "batch")) not in dims.required_pairs()
    assert uncovered(dims, cases) == set()


def test_the_same_dimensions_give_the_same_cases():
    dims = Dimensions({"a": (1, 2, 3), "b": (1, 2, 3), "c": (1, 2)})
    assert covering(dims) == covering(dims)


def test_uncovered_sees_a_missing_pair():
    dims = Dimensions({"a": (1, 2), "b": (1, 2)})
    cases = covering(dims)
    assert uncovered(dims, cases[1:]) and pairs_of(cases[0]) <= uncovered(dims, cases[1:])


def test_seed_cases_come_first():
    dims = Dimensions({"a": (1, 2), "b": (1, 2)})
    assert covering(dims, seed_cases=[{"a": 2, "b": 2}])[0] == {"a": 2, "b": 2}

"""The speed-comparison protocol (autograder.check.timing), with scripted timers."""
import statistics

import pytest
from hypothesis import given, settings, strategies as st

from autograder.check import timing


class Fail(Exception):
    pass


class Script:
    """A student and a reference whose times are given per call; logs every event."""

    def __init__(self, student_times, ref_times=None, wrong_at=()):
        self.student_times = list(student_times)
        self.ref_times = list(ref_times or [1.0] * len(self.student_times))
        self.wrong_at = set(wrong_at)
        self.log = []
        self.made = 0

    def make_input(self, k):
        self.made += 1
        self.log.append(("make", k))
        args = (object(), k)        # a new object every call
        self.kept = getattr(self, "kept", []) + [args]      # ids stay distinct
        return args

    # the student side
    def timed(self, fn, args):
        k = args[1]
        self.log.append(("student", k, id(args[0])))
        return self.student_times[k], ("wrong" if k in self.wrong_at else "right")

    def verify(self, args, outcome):
        if outcome != "right":
            raise Fail(f"call {args[1]} wrong")


class Ref:
    def __init__(self, script):
        self.script = script

    def timed(self, args):
        k = args[1]
        self.script.log.append(("ref", k, id(args[0])))
        return self.script.ref_times[k]


def run(script, calls=7, min_ratio=5.0):
    return timing.compare(script, Ref(script), fn="f", make_input=script.make_input,
                          verify=script.verify, min_ratio=min_ratio, calls=calls)


def test_a_fast_function_passes_after_a_majority_of_calls():
    s = Script([0.15] * 7)      # 6.7x: past the bar, not twice past it
    c = run(s)
    assert c.passed and c.ratio == pytest.approx(1 / 0.15)
    assert len(c.ratios) == 4 and s.made == 4 + 3      # 4 timed calls and 3 warm-ups


def test_a_slow_function_fails_after_a_majority_of_calls():
    c = run(Script([0.3] * 7))  # 3.3x: under the bar, not under half of it
    assert not c.passed and len(c.ratios) == 4 and c.ratio == pytest.approx(1 / 0.3)


def test_two_calls_twice_past_the_bar_pass_at_once():
    s = Script([0.1] * 7)       # 10x: twice the bar of 5x
    c = run(s)
    assert c.passed and len(c.ratios) == 2 and s.made == 2 + 3
    assert c.ratio == pytest.approx(10.0)


def test_two_calls_under_half_the_bar_fail_at_once():
    c = run(Script([0.8] * 7))  # 1.25x
    assert not c.passed and len(c.ratios) == 2 and c.ratio == pytest.approx(1.25)


@pytest.mark.parametrize("times", [[0.1, 0.15], [0.15, 0.1], [0.1, 0.8], [0.3, 0.8],
                                   [1e-9, 1.0], [1.0, 1e-9]])
def test_two_calls_decide_only_when_both_are_that_far_on_the_same_side(times):
    # One call far from the bar, or both on one side and one of them near it: the
    # majority of seven decides, as before.
    c = run(Script(times + [times[-1]] * 5))
    assert len(c.ratios) >= 4
    assert c.passed == (sum(r >= 5.0 for r in c.ratios) >= 4)


def test_a_slow_function_with_two_odd_calls_still_fails():
    # Two answers from a hiccup, not in a row: the majority still sees a loop.
    c = run(Script([1e-9, 1.0, 1e-9, 1.0, 1.0, 1.0, 1.0]))
    assert not c.passed


@pytest.mark.parametrize("cached_at", [0, 3, 6])
def test_one_cached_answer_cannot_pass_a_slow_function(cached_at):
    times = [1.0] * 7
    times[cached_at] = 1e-9         # answered from a cache: near-zero time
    c = run(Script(times))
    assert not c.passed and c.ratio == pytest.approx(1.0)


def test_three_cached_answers_of_seven_cannot_either():
    c = run(Script([1e-9, 1.0, 1e-9, 1.0, 1e-9, 1.0, 1.0]))
    assert not c.passed


@pytest.mark.parametrize("slow_at", [0, 2, 5])
def test_one_hiccup_cannot_fail_a_fast_function(slow_at):
    times = [0.05] * 7
    times[slow_at] = 5.0            # the machine stalled during one call
    assert run(Script(times)).passed


def test_the_median_decides_a_mixed_run():
    # Ratios 10, 1, 10, 1, 10, 1, 10: four of seven reach 5x.
    assert run(Script([0.1, 1, 0.1, 1, 0.1, 1, 0.1])).passed
    # 10, 1, 10, 1, 10, 1, 1: three of seven.
    assert not run(Script([0.1, 1, 0.1, 1, 0.1, 1, 1])).passed


def test_each_input_is_made_right_before_its_call_and_given_to_both_sides():
    s = Script([0.15] * 7)
    run(s)
    events = s.log
    for k in range(4):
        make = events.index(("make", k))
        timed = [e for e in events if e[0] in ("student", "ref") and e[1] == k]
        assert len(timed) == 2 and timed[0][2] == timed[1][2]   # the same args object
        # Nothing of call k is made before call k - 1 was timed on both sides.
        later = [i for i, e in enumerate(events) if e[0] in ("student", "ref") and e[1] == k - 1]
        assert all(i < make for i in later)
    ids = {e[2] for e in events if e[0] == "student"}
    assert len(ids) == 4 + 3        # a fresh input per call, warm-ups included


def test_the_order_alternates_so_drift_weighs_on_both():
    s = Script([0.3] * 7)
    run(s)
    firsts = [next(e[0] for e in s.log if e[0] != "make" and e[1] == k) for k in range(4)]
    assert firsts == ["ref", "student", "ref", "student"]


def test_a_wrong_answer_fails_whatever_its_speed():
    with pytest.raises(Fail, match="call 1 wrong"):
        run(Script([1e-6] * 7, wrong_at={1}))


def test_a_failing_reference_timer_is_not_the_students_result():
    class Dead:
        def timed(self, args):
            raise timing.TimerFailed("reference worker died twice")
    s = Script([0.1] * 7)
    with pytest.raises(timing.TimerFailed):
        timing.compare(s, Dead(), fn="f", make_input=s.make_input, verify=s.verify,
                       min_ratio=5.0)


def test_zero_time_is_floored_not_divided_by():
    c = run(Script([0.0] * 7))
    assert c.passed and c.ratio == pytest.approx(1.0 / timing.MIN_SECONDS)


def test_calls_must_be_odd():
    with pytest.raises(ValueError):
        run(Script([0.1] * 6), calls=6)


def test_warm_up_calls_are_judged_but_not_timed():
    s = Script([0.15] * 7 + [99.0] * 3)     # k < 0: slow, and not counted
    c = run(s)
    assert c.passed and len(c.ratios) == 4 and max(c.student_seconds) == 0.15
    assert [e[:2] for e in s.log[:6]] == [("make", -3), ("student", -3), ("make", -2),
                                          ("student", -2), ("make", -1), ("student", -1)]
    assert not any(e[0] == "ref" and e[1] < 0 for e in s.log)


def test_a_wrong_function_fails_at_its_first_warm_up_call():
    s = Script([0.1] * 10, wrong_at={-3})
    with pytest.raises(Fail, match="call -3 wrong"):
        run(s)
    assert s.made == 1          # a hanging function costs one timeout, not four


# ------------------------------------------------------------ near the bar

def ratios_as_times(ratios):
    """Student times that give these ratios against a reference of 1 s a call."""
    return [1.0 / r for r in ratios]


def test_a_loop_lucky_for_one_vote_is_not_passed():
    # The leanest loop is at ~3.8x; the reference slowed while the first four calls
    # were timed lifts them just past the bar. A majority of seven would pass it.
    c = run(Script(ratios_as_times([5.2, 5.1, 5.3, 5.05] + [3.8] * 17)))
    assert not c.passed and c.ratio < 5.0
    assert len(c.ratios) == 4 + 11         # the 11 ordinary calls outvote the 4 lucky ones


def test_a_loop_hovering_just_above_the_bar_needs_a_majority_of_21():
    # Five calls just past the bar, then the loop's own speed: 5 of 21 is no majority.
    c = run(Script(ratios_as_times([5.1, 4.0, 5.2, 5.1, 5.3, 4.1, 5.05] + [3.9] * 14)))
    assert not c.passed
    assert sum(r >= 5.0 for r in c.ratios) == 5


def test_a_loop_near_but_under_the_bar_fails_after_more_calls():
    c = run(Script(ratios_as_times([4.3] * 21)))   # a loop on a loaded machine: 4.3x
    assert not c.passed and len(c.ratios) == 11 and c.ratio == pytest.approx(4.3)


def test_a_clear_honest_ratio_passes_in_two_calls():
    c = run(Script(ratios_as_times([17.0] * 21)))  # the notebook's own solution
    assert c.passed and len(c.ratios) == 2


def test_a_honest_ratio_past_the_margin_passes_on_the_majority_of_seven():
    c = run(Script(ratios_as_times([7.0] * 21)))   # the slowest honest style, ~7x
    assert c.passed and len(c.ratios) == 4


def test_a_near_bar_honest_ratio_passes_with_more_calls():
    c = run(Script(ratios_as_times([5.6] * 21)))
    assert c.passed and len(c.ratios) == 11 and c.ratio == pytest.approx(5.6)


def test_honest_code_slowed_for_one_vote_is_not_failed():
    # The machine busy while the first four calls were timed: 4.5x; then its own 7x.
    c = run(Script(ratios_as_times([4.5] * 4 + [7.0] * 17)))
    assert c.passed and c.ratio >= 5.0
    assert len(c.ratios) == 4 + 11


def test_a_ratio_far_under_the_bar_stops_at_the_majority_of_seven():
    c = run(Script(ratios_as_times([3.8] * 21)))   # the leanest loop, quiet machine
    assert not c.passed and len(c.ratios) == 4


@pytest.mark.parametrize("median", [4.0, 4.9, 5.0, 6.2])
def test_the_band_is_a_factor_near_on_either_side(median):
    # In [bar / 1.25, bar * 1.25): more calls; the edges by the factor, not by a guess.
    c = run(Script(ratios_as_times([median] * 21)))
    assert len(c.ratios) == 11


@pytest.mark.parametrize("median", [3.99, 6.25])
def test_outside_the_band_the_majority_of_seven_is_final(median):
    c = run(Script(ratios_as_times([median] * 21)))
    assert len(c.ratios) == 4


def _compare(ratios, **kw):
    s = Script(ratios_as_times(ratios))
    return timing.compare(s, Ref(s), fn="f", make_input=s.make_input, verify=s.verify,
                          min_ratio=5.0, **kw)


def test_no_band_means_the_old_vote():
    c = _compare([5.2] * 4 + [3.8] * 17, near=1.0)
    assert c.passed and len(c.ratios) == 4


@pytest.mark.parametrize("kw", [{"calls_near": 20}, {"calls_near": 5}, {"near": 0.9}])
def test_the_band_settings_are_checked(kw):
    with pytest.raises(ValueError):
        _compare([7.0] * 21, **kw)


def _first_vote(ratios):
    """How many calls the majority of seven takes on these ratios."""
    for n in range(1, 8):
        fast = sum(r >= 5.0 for r in ratios[:n])
        if max(fast, n - fast) >= 4:
            return n


@settings(max_examples=400, deadline=None)
@given(st.lists(st.floats(min_value=0.5, max_value=30.0), min_size=21, max_size=21))
def test_the_verdict_is_the_median_of_the_calls_it_counted(ratios):
    c = _compare(ratios)
    ratios = [1.0 / t for t in ratios_as_times(ratios)]     # as the protocol computes them
    n, first = len(c.ratios), _first_vote(ratios)
    assert c.ratios == ratios[:n]
    # The ratio it reports is on the side of the bar its verdict says.
    assert c.passed == (c.ratio >= 5.0)
    if n == 2 and first > 2:
        assert all(r >= 10.0 for r in ratios[:2]) or all(r <= 2.5 for r in ratios[:2])
    elif n == first:
        # Final on the majority of seven only outside the band.
        assert not 4.0 <= statistics.median(ratios[:n]) < 6.25
    else:
        # Near the bar: what the median of all 21 calls would say, on a majority of 21.
        assert 4.0 <= statistics.median(ratios[:first]) < 6.25
        assert n >= 11 and c.passed == (sorted(ratios)[10] >= 5.0)

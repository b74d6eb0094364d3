"""The speed-comparison protocol: is the student's function k times faster than a reference?

Generic: it knows a function name, a way to make fresh inputs, a way to judge
an answer, and two timers; nothing about any assignment.

What it guarantees, given timers that measure what they should (see
`SandboxStudent.timed` and `ProcessTimer.timed` in `autograder.check.runner`):

- Nothing can be precomputed or cached. Input k is made only when call k is
  timed (`make_input(k)` returns new arrays each time) and travels to the
  student's process inside the very request that is timed; a cache filled
  during call k is useless for call k + 1.
- One odd call cannot decide. Each call gives a ratio reference / student on
  the same input; the verdict is the median of the ratios (equivalently, a
  majority of the calls must reach `min_ratio`). A call answered from some
  cache, or slowed by a hiccup of the machine, moves the median by at most one
  rank. The protocol stops as soon as a majority has decided, so a clear pass
  or fail costs `calls // 2 + 1` calls, not `calls`; and after the first two
  calls when both are past the bar by a wide margin (`margin`, 2: each at least
  twice the bar, or each under half of it). Two calls that far apart from the
  bar are not what one hiccup does: a loop would need both of its ratios more
  than doubled (the leanest is at about 4x), an honest vectorization both
  more than halved (the slowest is at about 7x), where the majority of seven
  needs only ~1.2x. Most submissions are that clear (the notebook's own
  solution is at ~17x, most loops under 3x): half the calls, half the
  reference's time.
- Near the bar, more calls. When the majority of `calls` has voted but the
  median of the calls taken lies within a factor `near` (1.25) of the bar, the
  vote is not final: calls go on until a majority of `calls_near` (21) agrees,
  every call counted (the verdict of the median of 21). The reference's calls
  are not alike: a loop that allocates per example (softmax's builds a list
  per example) pays a full garbage collection about one call in two or three,
  ~30% longer, and a shared timer is at any point of that cycle when a check
  starts; add the machine's load, and four to seven ratios can hold more slow
  reference calls than their share. Twenty-one span many cycles. Measured on
  recorded per-call times (every starting point of 30 runs of 21 calls): with
  the other core busy, a loop whose calls' median is 4.8x passed 27% of checks
  on the majority of seven, 10% with the band; idle, a loop at 3.9x passed 2
  of 630, none with it, and honest code at 5.2x 79%, 90% with it. Near the bar
  itself the verdict stays a coin toss; the band makes it that of the median
  of many calls, not of the timer's moment. It costs only near the
  bar: honest code a majority places far above (the notebook's ~17x, most
  honest styles at 7x and more) and loops far below stop as before.
- Reference and student are timed alternately on the same input, the order
  swapped every call, so slow drift of the machine weighs on both alike.
- A few untimed calls of the student's function first (`warmup`), each on an
  input of its own and judged like the others (so a wrong or hanging function
  fails at the first call, not after the warm-up): the first calls in a fresh jail pay for cold caches and
  fresh memory, which weighs on a ~1.5 ms vectorized call and hardly on a
  15 ms loop (measured in fresh jails, median ratio of an einsum solution:
  6.6-7.6x with no warm-up, 7.2-8.0x with one, 8.4-9.7x with three, no
  better with five).
- Every answer is judged (`verify` raises the check's failure): a fast wrong
  answer never earns a ratio.
- A reference timer that fails is the grader's problem, not the student's:
  the timer replaces itself or raises `TimerFailed`, which callers treat as an
  internal error (retried, never recorded as the student's result).

The timing is the authority; reading the code for loops is at most a hint
for the feedback when the timing fails.
"""
import statistics
from dataclasses import dataclass, field

# A measured time below this is taken as this: CPU clocks are in ns, but a
# wall-clock fallback may read 0 for a very fast call.
MIN_SECONDS = 1e-6


class TimerFailed(RuntimeError):
    """The grader's reference timer could not time a call (an internal error)."""


@dataclass
class Comparison:
    """What one speed comparison measured."""
    passed: bool
    ratio: float                         # median of the per-call ratios
    ratios: list = field(default_factory=list)
    student_seconds: list = field(default_factory=list)
    reference_seconds: list = field(default_factory=list)

    def summary(self):
        """One line for logs and benchmarks."""
        return (f"ratio {self.ratio:.1f}x (median of {len(self.ratios)}: "
                f"{', '.join(f'{r:.1f}' for r in self.ratios)})")


def compare(student, timer, *, fn, make_input, verify, min_ratio, calls=7, warmup=3,
            margin=2.0, near=1.25, calls_near=21):
    """Time `fn` of `student` against `timer`'s reference on fresh inputs.

    student.timed(fn, args) -> (seconds, outcome)   the student's function
    timer.timed(args) -> seconds                    the reference (may raise TimerFailed)
    make_input(k) -> args                           new arrays for call k (k < 0: warm-ups)
    verify(args, outcome)                           raises if the answer is wrong

    Returns a Comparison whose `passed` is the vote of a majority of `calls` calls
    (`calls // 2 + 1` ratios at least `min_ratio`), unless:
    - the first two ratios are both at least `margin` x `min_ratio` (pass) or both at
      most `min_ratio` / `margin` (fail): decided after two calls;
    - that vote's median lies near the bar, within a factor `near` of `min_ratio`
      (`min_ratio / near <= median < min_ratio * near`): then the calls go on and the
      vote is that of a majority of `calls_near` calls, all of them counted.
    `ratio` is the median of every ratio taken; it is on the side of `min_ratio` that
    `passed` says (a majority of the calls taken lies there).
    Exceptions from `verify` and `TimerFailed` propagate.
    """
    if calls < 1 or calls % 2 == 0 or calls_near < calls or calls_near % 2 == 0:
        raise ValueError("calls and calls_near must be odd (the median is one of the calls), "
                         "calls_near at least calls")
    if near < 1.0:
        raise ValueError("near is a factor of at least 1")
    for k in range(-warmup, 0):
        args = make_input(k)
        verify(args, student.timed(fn, args)[1])      # judged, not timed
    ratios, t_student, t_ref = [], [], []

    def one_call(k):
        args = make_input(k)
        if k % 2 == 0:
            ref = timer.timed(args)
            seconds, outcome = student.timed(fn, args)
        else:
            seconds, outcome = student.timed(fn, args)
            ref = timer.timed(args)
        verify(args, outcome)
        t_ref.append(ref)
        t_student.append(seconds)
        ratios.append(ref / max(seconds, MIN_SECONDS))

    def fast():
        return sum(r >= min_ratio for r in ratios)

    def decided(of):
        majority = of // 2 + 1
        return fast() >= majority or len(ratios) - fast() >= majority

    def result(of):
        return Comparison(fast() >= of // 2 + 1, statistics.median(ratios), ratios,
                          t_student, t_ref)

    while not decided(calls):
        one_call(len(ratios))
        if len(ratios) == 2 and calls > 2 and (
                all(r >= min_ratio * margin for r in ratios)
                or all(r * margin <= min_ratio for r in ratios)):
            return Comparison(ratios[0] >= min_ratio, statistics.median(ratios), ratios,
                              t_student, t_ref)
    if not min_ratio / near <= statistics.median(ratios) < min_ratio * near:
        return result(calls)
    while not decided(calls_near):
        one_call(len(ratios))
    return result(calls_near)

"""Wall-clock timing for comparing implementations."""
import time


def time_function(f, *args, repeat=5):
    """Best wall time in seconds of ``f(*args)`` over ``repeat`` runs.

    The minimum, not the mean: other processes only ever add time, so the
    fastest run is the best estimate of the code's own cost.
    """
    if repeat < 1:
        raise ValueError("repeat must be >= 1")
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        f(*args)
        best = min(best, time.perf_counter() - start)
    return best

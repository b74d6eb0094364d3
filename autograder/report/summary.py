"""The end-of-run summary: per-test pass rates, flags, and a score histogram."""
from collections import Counter

from autograder.record.store import atomic_write
from ..untrusted import terminal
from autograder.wording import title


def summary_table(results, spec, max_rows=40):
    n = len(results)
    lines = [f"Graded {n} submission(s) of {spec.name} (max {spec.max_score:g} points)", ""]
    width = max(len(title(t)) for t in spec.tests) + 2
    lines.append(f"{'test':<{width}}{'points':>7}{'passed':>10}{'rate':>8}")
    for test in spec.tests:
        passed = sum(1 for r in results for t in r.tests if t.grade_id == test.grade_id and t.passed)
        rate = 100.0 * passed / n if n else 0.0
        lines.append(f"{title(test):<{width}}{test.points:>7g}"
                     f"{passed:>6}/{n:<3}{rate:>7.0f}%")
    scores = sorted(r.score for r in results)
    if scores:
        mean = sum(scores) / n
        median = scores[n // 2] if n % 2 else (scores[n // 2 - 1] + scores[n // 2]) / 2
        lines += ["", f"score: mean {mean:.1f}, median {median:g}, "
                      f"min {scores[0]:g}, max {scores[-1]:g}"]
    flags = Counter(f for r in results for f in r.flags)
    if flags:
        lines.append("flags: " + ", ".join(f"{k} x{v}" for k, v in sorted(flags.items())))
    if n <= max_rows:
        lines += ["", f"{'student':<28}{'score':>7}  flags / mistakes named"]
        for r in sorted(results, key=lambda r: r.student_id):
            named = sorted({t.mistake for t in r.tests if t.mistake})
            notes = ", ".join(r.flags + named) or "-"
            lines.append(f"{terminal(r.student_id)[:27]:<28}{r.score:>7g}  {notes}")
    return "\n".join(lines)


def write_histogram(results, spec, path):
    import io

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(6, 3.5))
    bins = [x - 0.5 for x in range(int(spec.max_score) + 2)]
    ax.hist([r.score for r in results], bins=bins, color="#3b7dd8", edgecolor="white")
    ax.set_xlabel(f"score (out of {spec.max_score:g})")
    ax.set_ylabel("students")
    # Counts of students are whole numbers: no 0.5 ticks on a small class.
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(f"{spec.name}: score distribution ({len(results)} submissions)")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    atomic_write(path, buf.getvalue())

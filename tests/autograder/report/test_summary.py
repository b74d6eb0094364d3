"""The end-of-run summary and the score histogram."""
from autograder.model import Spec, TestCell
from autograder.report import summary
from autograder.model import StudentResult, TestResult

SPEC = Spec("hw", ("f",), (TestCell("test_f", 2.0, ("c",), "f"), TestCell("test_g", 3.0, ("d",), "f")))


def result(sid, f, g):
    return StudentResult(sid, "", "", tests=[TestResult("test_f", f, 2.0, f == 2.0),
                                             TestResult("test_g", g, 3.0, g == 3.0)])


def test_histogram_counts_students_in_whole_numbers(tmp_path, monkeypatch):
    import matplotlib.axes
    seen = {}
    real = matplotlib.axes.Axes.hist

    def spy(self, *args, **kwargs):
        seen["ax"] = self
        return real(self, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "hist", spy)
    results = [result("a", 2.0, 3.0), result("b", 0.0, 3.0), result("c", 2.0, 0.0)]
    summary.write_histogram(results, SPEC, tmp_path / "h.png")
    assert (tmp_path / "h.png").read_bytes().startswith(b"\x89PNG")
    ticks = seen["ax"].get_yticks()
    assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks), ticks


def test_summary_table_rates_and_scores():
    text = summary.summary_table([result("a", 2.0, 3.0), result("b", 0.0, 3.0)], SPEC)
    assert "Graded 2 submission(s) of hw (max 5 points)" in text
    assert "score: mean 4.0, median 4, min 3, max 5" in text

"""bench/REPORT.md and the README's benchmark figures say what bench/REPORT.json holds,
and the report shows no ratio between graders that were given different notebooks."""
import copy
import importlib
import json
import re

import pytest

from tests.conftest_paths import REPO

BENCH = REPO / "bench"
# A figure with a unit, or a load average, in a sentence that cites the report.
FIGURE = re.compile(r"\b\d[\d.,]*(?:\s*-\s*\d[\d.,]*)?\s*(?:s|ms|x|MB|KB|GB|minutes?|runs)\b"
                    r"|load average of \d")


@pytest.fixture
def report(monkeypatch):
    """bench/report.py (bench/ holds scripts, not a package: imported from its folder)."""
    monkeypatch.syspath_prepend(str(BENCH))
    return importlib.import_module("report")


@pytest.fixture
def saved():
    return json.loads((BENCH / "REPORT.json").read_text())


def test_report_md_is_rendered_from_report_json(report, saved):
    assert (BENCH / "REPORT.md").read_text() == report.render(saved), \
        "bench/REPORT.md differs from bench/REPORT.json: run `python bench/run.py report`"


def test_readme_figures_are_the_reports(report, saved):
    readme = (REPO / "README.md").read_text()
    keys = {k for k, _ in report.MARKER.findall(readme)}
    assert "table" in keys and "one-ours" in keys and "speed-runs" in keys
    assert report.fill_readme(readme, report.readme_figures(saved)) == readme, \
        "README.md's benchmark figures differ from bench/REPORT.json: run `python bench/run.py report`"


def test_readme_cites_the_report_only_through_marked_figures(report):
    """A sentence that cites bench/REPORT.md quotes its figures only between markers, so
    no hand-written figure can go stale."""
    text = report.MARKER.sub("FIGURE", (REPO / "README.md").read_text())
    loose = []
    for paragraph in re.split(r"\n\s*\n|\n\s*[-*] ", text):     # paragraphs and list items
        for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z(`*])", " ".join(paragraph.split())):
            if "REPORT.md" in sentence:
                loose += [(m[0], sentence) for m in FIGURE.finditer(sentence)]
    assert loose == []


def test_fill_readme_refuses_a_figure_no_one_makes(report, saved):
    with pytest.raises(KeyError, match="no-such-figure"):
        report.fill_readme("<!-- bench:no-such-figure -->1 s<!-- /bench:no-such-figure -->",
                           report.readme_figures(saved))


# ------------------------------------------------------------------ synthetic sections

def _section(data, load=0.5):
    return {"date": "2026-01-01 00:00 UTC", "seconds": 1.0, "load_start": [load] * 3,
            "load_end": [load] * 3, "data": data,
            "machine": {"nproc": 2, "cpu": "cpu", "python": "3.11", "commit": "abc",
                        "blas_env": {}}}


def _given(names, rounds, digest="d1", n=8):
    return {k: [{"n": n, "sha256": digest}] * rounds for k in names}


def _batch(otter_s, nbgrader_s, ours_s=(1.0, 1.0)):
    rounds = len(ours_s)
    scores = [{"s1": {"t": 1.0}}] * rounds
    return _section({
        "n": 8, "kinds": ["perfect"], "timings": [],
        "rounds": {"seconds": {"ours": list(ours_s), "otter": list(otter_s),
                               "nbgrader": list(nbgrader_s)},
                   "load": [0.5] * 3 * rounds,
                   "order": [["ours", "otter", "nbgrader"]] * rounds},
        "verdicts": {"ours": scores, "otter": scores, "nbgrader": scores},
        "given": _given(("ours", "otter", "nbgrader"), rounds),
        "peers": {"otter-grader": "7", "nbgrader": "0.9"}})


def _summary(report, sections):
    text = report.render({"sections": sections})
    return text[text.index("## Summary"):text.index("\n## ", text.index("## Summary") + 1)]


def test_a_batch_ratio_is_per_round_on_the_same_notebooks(report):
    rows = _summary(report, {"batch": _batch((12.0, 14.0), (9.0, 11.0))})
    assert "**13.0x** (12.0-14.0x) | >= 10x | **pass**" in rows
    assert "**10.0x** (9.0-11.0x) | >= 10x | **pass**" in rows


def test_no_ratio_between_graders_given_different_notebooks(report):
    s = _batch((12.0, 14.0), (9.0, 11.0))
    s["data"]["given"]["nbgrader"][1] = {"n": 6, "sha256": "d2"}   # a smaller set, one round
    text = report.render({"sections": {"batch": s}})
    figures = report.readme_figures({"sections": {"batch": s}})
    for shown in (text, figures["table"]):
        assert "13.0x" not in shown and "10.0x" not in shown and "12.0x" not in shown
        assert "not shown: the graders were not given the same notebooks" in shown
    assert "NOT given the same notebooks" in text


def test_the_speed_goal_needs_200_runs_of_each_side(report):
    def rows(runs):
        return [{"solution": name, "load": load, "runs": runs, "should_pass": side,
                 "passed": runs if side else 0, "wrong": 0, "seconds": 1.0, "decides": True,
                 "ratio_min": 1, "ratio_median": 1, "ratio_max": 1}
                for name, side in (("honest", True), ("loop", False))
                for load in ("idle", "other core busy")]
    few = _summary(report, {"speed": _section({"runs": 10, "rows": rows(10)})})
    enough = _summary(report, {"speed": _section({"runs": 100, "rows": rows(100)})})
    assert few.count("**FAIL**") == 2 and enough.count("**pass**") == 2


def test_a_goal_missed_on_a_busy_machine_says_so(report):
    lat = _section({"rounds": {"seconds": {k: [1.0, 1.2] for k in
                                           ("ours", "ours_gradebook", "otter", "nbgrader")},
                               "load": [9.0] * 8, "order": [["ours"]] * 2},
                    "verdicts": {}, "timings": {},
                    "given": _given(("ours", "ours_gradebook", "otter", "nbgrader"), 2)})
    busy = _summary(report, {"latency": lat})
    assert "not quiet" in busy
    quiet = copy.deepcopy(lat)
    quiet["data"]["rounds"]["load"] = [0.4] * 8
    assert "not quiet" not in _summary(report, {"latency": quiet})


def test_a_section_says_how_fast_the_machine_was_when_recorded(report, saved):
    """Figures from different hours of a shared machine are read against its speed then:
    the probe is shown where it was recorded, and nothing is made up where it was not."""
    s = copy.deepcopy(next(iter(saved["sections"].values())))
    s["machine"].pop("loop_ms", None)
    s["machine"].pop("page_us", None)
    assert "machine speed" not in report._stamp(s)
    s["machine"].update(loop_ms=45.4, page_us=2.77)
    assert report._stamp(s).endswith("machine speed: a 1M-step Python loop 45 ms, first "
                                      "touch of a fresh page 2.8 us")

"""Feedback pages: the student id is escaped in the page and never a raw path."""

from autograder.report.feedback import write_feedback
from autograder.model import Spec, StudentResult, TestCell, TestResult
from autograder.record.store import safe_name

SPEC = Spec("softmax", ("a",), (TestCell("test_a", 2.0, (), "a"),))


def test_hostile_ids_and_messages_are_escaped_and_kept_inside_out(tmp_path):
    for sid in ("x<script>alert(1)</script>", "..", "-x", "new\nline", "José"):
        r = StudentResult(sid, "", "", problem="<img src=x onerror=alert(2)>",
                          tests=[TestResult("test_a", 0.0, 2.0, False, message="<b>boom</b>")])
        write_feedback(r, SPEC, tmp_path)
        page = tmp_path / "feedback" / safe_name(sid) / "softmax.html"
        html = page.read_text()
        assert "<script>" not in html and "<img" not in html and "<b>boom" not in html
        assert "&lt;img" in html
    assert {p.parent for p in (tmp_path / "feedback").rglob("*.html")} <= {
        p for p in (tmp_path / "feedback").iterdir()}

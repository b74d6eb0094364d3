"""One decision for both hosted engines: bubblewrap when a jailed worker answers."""
import pytest

from autograder.model import SandboxMode
from autograder.sandbox import SandboxUnavailable, hosted
from autograder.sandbox.modes import select


def test_a_bubblewrap_worker_answers_where_bwrap_can_start():
    try:
        select("bubblewrap")
    except SandboxUnavailable as e:
        pytest.skip(f"no bubblewrap here: {e}")
    assert hosted.bubblewrap_fails() is None
    assert hosted.choose(SandboxMode.AUTO) == hosted.Chosen(SandboxMode.BUBBLEWRAP)


def test_auto_falls_back_to_the_container_with_the_first_line_of_why(monkeypatch):
    monkeypatch.setattr(hosted, "bubblewrap_fails", lambda: "  clone: refused\nmore\n")
    assert hosted.choose(SandboxMode.AUTO) == hosted.Chosen(SandboxMode.CONTAINER,
                                                            "clone: refused")


def test_a_mode_asked_for_is_taken_without_a_probe(monkeypatch):
    monkeypatch.setattr(hosted, "bubblewrap_fails", lambda: pytest.fail("probed"))
    for mode in (SandboxMode.CONTAINER, SandboxMode.BUBBLEWRAP, SandboxMode.UNSAFE):
        assert hosted.choose(mode) == hosted.Chosen(mode)

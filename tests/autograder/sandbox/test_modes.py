"""Choosing the sandbox mode and the start-up line that says which caps hold."""
import os

import pytest

from autograder import pipeline
from autograder.submissions.discover import UsageError
from autograder.sandbox import Limits, SandboxUnavailable, bwrap, container, modes


def test_start_up_line_names_mode_version_and_every_cap():
    line = modes.select("auto").describe(Limits(memory_mb=512, cpu_seconds=60))
    found = bwrap.find()
    assert line.startswith(f"sandbox: bubblewrap {found.version} ({found.source}); per jail: ")
    assert "1 process (seccomp)" in line and "no network" in line and "60 s CPU" in line
    assert "512 MB memory (448 MB address space + /tmp 64 MB)" in line
    assert "\n" not in line


def test_memory_budget_sums_to_memory():
    from autograder.sandbox.jail import memory_budget
    for mb in (64, 256, 1024, 4096):
        as_mb, tmp_mb = memory_budget(Limits(memory_mb=mb))
        assert as_mb + tmp_mb == mb and 0 < tmp_mb <= 64


def test_unsafe_is_only_by_name():
    opts = pipeline.Options(unsafe=True, sandbox="container")
    assert pipeline.sandbox_mode(opts) is modes.UNSAFE
    assert modes.UNSAFE.describe().startswith("sandbox: NONE (--unsafe-no-sandbox)")


def test_container_mode_needs_root(monkeypatch):
    monkeypatch.setattr(container.os, "geteuid", lambda: 1000)
    with pytest.raises(SandboxUnavailable, match="needs the grader to run as root"):
        modes.select("container")
    with pytest.raises(UsageError) as e:
        pipeline.sandbox_mode(pipeline.Options(sandbox="container"))
    assert "\n" not in str(e.value) and "--unsafe-no-sandbox" in str(e.value)


@pytest.mark.skipif(os.geteuid() != 0, reason="container mode runs as root")
def test_container_start_up_line():
    m = modes.select("container")
    try:
        line = m.describe(Limits())
    finally:
        m.close()
    assert line.startswith("sandbox: container (student code as uid 61000+slot")
    assert "1 process (seccomp + RLIMIT_NPROC on its own uid)" in line
    assert "no network (seccomp: no sockets)" in line

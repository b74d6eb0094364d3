"""nbgrader's side files beside a submission (timestamp.txt, submission_secret.txt) are
copied into OUT only as regular files, through one open that follows no link and never
blocks: one swapped for a link or a FIFO after any earlier look is not followed, not
waited on."""
import os
import threading
from pathlib import Path

import pytest

from autograder.record.nbgrader import autograded as nbgrader_course


def _copy_in_thread(src, dest):
    t = threading.Thread(target=nbgrader_course._copy_side_files, args=(src, dest), daemon=True)
    t.start()
    t.join(10)
    return not t.is_alive()


def test_a_regular_side_file_is_copied(tmp_path):
    src, dest = tmp_path / "sub", tmp_path / "dest"
    src.mkdir()
    (src / "timestamp.txt").write_text("2026-12-05 18:00:00.000000 UTC")
    assert _copy_in_thread(src, dest)
    assert (dest / "timestamp.txt").read_text() == "2026-12-05 18:00:00.000000 UTC"


@pytest.mark.parametrize("kind", ["link", "fifo", "too-big"])
def test_a_side_file_that_changed_after_a_look_is_not_read(tmp_path, monkeypatch, kind):
    """Every look at the path (is_file, is_symlink, stat) is made to say "a small regular
    file", as it did before a swap: what is copied must depend on the open alone."""
    secret = tmp_path / "secret"
    secret.write_text("H15-LINK-TARGET")
    src, dest = tmp_path / "sub", tmp_path / "dest"
    src.mkdir()
    path = src / "timestamp.txt"
    if kind == "link":
        path.symlink_to(secret)
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.write_bytes(b"x" * (nbgrader_course.MAX_SIDE_FILE_BYTES + 1))
    monkeypatch.setattr(Path, "is_symlink", lambda self: False)
    monkeypatch.setattr(Path, "is_file", lambda self: True)
    assert _copy_in_thread(src, dest), "the copy waited on a FIFO"
    assert not (dest / "timestamp.txt").exists()

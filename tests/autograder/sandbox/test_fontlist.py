"""matplotlib's font list, built outside the jail for the jail."""
import json
import os
import sys

from autograder.sandbox.fontlist import FontLists, build


def test_the_font_list_is_matplotlibs_own_json():
    fonts = build(sys.executable)
    assert fonts is not None and fonts.name.startswith("fontlist-v") and fonts.name.endswith(".json")
    listed = json.loads(fonts.data)
    assert listed["ttflist"], "matplotlib ships fonts of its own: the list is never empty"
    fd = fonts.fd()
    try:
        assert os.read(fd, len(fonts.data) + 1) == fonts.data
    finally:
        os.close(fd)


def test_no_matplotlib_no_list(tmp_path):
    assert build(str(tmp_path / "no-python")) is None
    assert build("/bin/false") is None


def test_built_once_per_python():
    lists = FontLists()
    assert lists.get(sys.executable) is lists.get(sys.executable)


def test_prefetch_builds_in_the_background_once(monkeypatch):
    import threading
    from autograder.sandbox import fontlist
    calls, release = [], threading.Event()

    def slow(python):
        calls.append(python)
        release.wait(10)
        return fontlist.Fonts("fontlist-v0.json", b"{}")

    monkeypatch.setattr(fontlist, "build", slow)
    lists = FontLists()
    lists.prefetch("py")
    lists.prefetch("py")
    release.set()
    assert lists.get("py").name == "fontlist-v0.json" and calls == ["py"]

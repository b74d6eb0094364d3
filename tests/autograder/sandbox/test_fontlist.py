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


def test_a_built_list_is_kept_and_used_again_without_building(tmp_path, monkeypatch):
    from autograder.sandbox import fontlist
    first = FontLists(cache=tmp_path).get(sys.executable)
    assert first is not None and list(tmp_path.rglob("fontlist-*.json"))

    def no_build(python):
        raise AssertionError("built again although a valid list is kept")
    monkeypatch.setattr(fontlist, "build", no_build)
    again = FontLists(cache=tmp_path).get(sys.executable)
    assert again == first


def test_a_kept_list_naming_a_missing_font_is_built_again(tmp_path, monkeypatch):
    from autograder.sandbox import fontlist
    first = FontLists(cache=tmp_path).get(sys.executable)
    kept = next(tmp_path.rglob("fontlist-*.json"))
    listed = json.loads(kept.read_bytes())
    listed["ttflist"][0]["fname"] = str(tmp_path / "gone.ttf")
    kept.write_text(json.dumps(listed))
    calls = []
    monkeypatch.setattr(fontlist, "build", lambda python: calls.append(python) or first)
    assert FontLists(cache=tmp_path).get(sys.executable) == first and calls == [sys.executable]
    assert json.loads(kept.read_bytes()) == json.loads(first.data)    # the kept one replaced


def test_only_this_python_is_kept_and_none_without_a_cache(tmp_path, monkeypatch):
    from autograder.sandbox import fontlist
    assert fontlist.cache_key("/usr/bin/some-other-python") is None
    assert fontlist.cache_key(sys.executable) is not None
    monkeypatch.setattr(fontlist, "build", lambda python: fontlist.Fonts("fontlist-v0.json", b"{}"))
    FontLists(cache=False).get(sys.executable)
    FontLists(cache=tmp_path).get("/usr/bin/some-other-python")
    assert not list(tmp_path.rglob("*"))

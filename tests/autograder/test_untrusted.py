"""Student text: valid at the doors, and safe in each sink's own form (autograder/untrusted.py)."""
import html
import html.parser
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder import untrusted
from autograder.untrusted import (csv_cell, markdown_html, markdown_inert, terminal, text_html,
                                  valid, valid_tree)

# Stored XSS as students write it: each payload would run script, load a remote
# resource or style the page if a renderer passed it through.
PAYLOADS = [
    "<script>window.__xss='script'</script>",
    "<img src=x onerror=\"window.__xss='img'\">",
    "<svg onload=\"window.__xss='svg'\"><circle r=5></circle></svg>",
    "<iframe srcdoc=\"<script>parent.__xss='iframe'</script>\"></iframe>",
    "<a href=\"javascript:window.__xss='link'\">click</a>",
    "[click](javascript:window.__xss='mdlink')",
    "[click]( JaVaScRiPt:window.__xss='mdlink2')",
    "<a href=\"&#106;avascript:window.__xss='entity'\">x</a>",
    "![x](https://attacker.example/pixel.png)",
    "![x](attachment:evil.svg)",
    "<img src=\"data:image/svg+xml;base64,PHN2Zy8+\">",
    "<a href=\"data:text/html,<script>alert(1)</script>\">d</a>",
    "<style>body{display:none}</style>",
    "<form action=\"https://attacker.example\"><input name=q></form>",
    "<div id=\"nbgrader\" style=\"position:fixed\" class=\"panel\">clobber</div>",
    "<object data=\"x.swf\"></object><embed src=\"x.swf\">",
    "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
    "<base href=\"https://attacker.example/\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=https://attacker.example\">",
    "<!--<script>--><script>alert(1)</script>",
    "```\n</code></pre><script>alert(1)</script>\n```",
    "<details open ontoggle=\"alert(1)\">x</details>",
    "<scr<script>ipt>alert(1)</script>",
]

ALLOWED_URL_ATTRS = {("a", "href"), ("img", "src")}


class _Elements(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = []          # (tag, {attr: value})
        self.text = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.text.append(data)


def elements(fragment):
    p = _Elements()
    p.feed(fragment)
    p.close()
    return p


def assert_allow_listed(fragment):
    """Every element and attribute of `fragment` is on untrusted's allow-list."""
    for tag, attrs in elements(fragment).tags:
        assert tag in untrusted.ALLOWED_TAGS, (tag, fragment)
        for name, value in attrs.items():
            value = value or ""
            if tag == "div" and name == "class":
                assert value == untrusted.NO_MATH
                continue
            assert not name.startswith("on"), (tag, name, fragment)
            assert name not in ("id", "style", "name", "srcdoc", "action"), (tag, name)
            if (tag, name) in ALLOWED_URL_ATTRS:
                low = value.strip().lower()
                if tag == "img":
                    assert low.startswith(("data:image/png;", "data:image/jpeg;",
                                           "data:image/gif;", "data:image/webp;")), value
                else:
                    assert low.startswith(("http://", "https://", "mailto:", "#")), value


# ---------------------------------------------------------------- the doors


def test_valid_replaces_lone_surrogates_with_the_replacement_character():
    assert valid("a\udc80b\ud800") == "a\ufffdb\ufffd"
    assert valid("a\udc80b").encode("utf-8") == "a\ufffdb".encode("utf-8")
    text = "plain ünïcode ∑ 🙂"
    assert valid(text) is text


def test_valid_tree_reaches_keys_values_and_nesting_and_leaves_the_rest():
    arr = np.arange(3.0)
    got = valid_tree({"\udc80k": ["x\ud800", {"y": "\udfff"}], "n": 3, "a": arr, "b": None})
    assert got["\ufffdk"] == ["x\ufffd", {"y": "\ufffd"}]
    assert got["n"] == 3 and got["a"] is arr and got["b"] is None
    json.dumps(got, default=list, ensure_ascii=False).encode("utf-8")


@given(st.text())
def test_valid_text_always_encodes_and_keeps_every_valid_character(text):
    out = valid(text)
    out.encode("utf-8")
    assert len(out) == len(text)
    assert all(a == b or b == "\ufffd" for a, b in zip(text, out))


# ---------------------------------------------------------------- plain sinks


def test_terminal_shows_control_characters_as_escapes():
    shown = terminal("ann\x1b[2J\rbob\nfake row\u202e\x07\udc80")
    assert "\x1b" not in shown and "\r" not in shown and "\n" not in shown
    assert "\u202e" not in shown and "\x07" not in shown
    assert shown.startswith("ann\\x1b[2J\\rbob\\nfake row")
    assert shown.endswith("\ufffd")
    assert terminal("a\nb\tc", keep="\n\t") == "a\nb\tc"


@pytest.mark.parametrize("text", ["=1+1", "+cmd", "-2", "@SUM(A1)", "\t=x", "\r=x", "  =x"])
def test_csv_cells_never_start_a_formula(text):
    assert csv_cell(text) == "'" + text


def test_csv_cell_keeps_plain_text_and_makes_it_valid():
    assert csv_cell("ann") == "ann"
    assert csv_cell("a\udc80") == "a\ufffd"


def _rendered(markdown):
    from nbconvert.filters.markdown_mistune import markdown2html_mistune
    return markdown2html_mistune(markdown)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markdown_inert_renders_as_its_own_text(payload):
    """nbgrader's generate_feedback renders comments with nbconvert's Markdown renderer,
    unsanitised: a comment made inert renders as plain paragraphs of the same text."""
    comment = "test_f: 0/2 failed: f(x) raised ValueError: " + payload
    page = elements(_rendered(markdown_inert(comment)))
    assert {tag for tag, _ in page.tags} <= {"p", "pre", "code", "br"}, page.tags
    shown = "".join(page.text).replace("\n", "").replace(" ", "")
    # The renderer decodes character references in text (&#106; reads as j): still text.
    assert shown == html.unescape(comment).replace("\n", "").replace(" ", "")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["<", ">", "[", "]", "(", ")", "!", "$", "\\", ":", "`", "&",
                                 "#", "*", "_", "\n", " ", "a", "javascript:", "script",
                                 "img src=x onerror=", "http://x", "\udc80"]), max_size=40))
def test_markdown_inert_never_renders_markup(parts):
    page = elements(_rendered(markdown_inert("".join(parts))))
    assert not [(tag, attrs) for tag, attrs in page.tags
                if tag not in ("p", "br", "code", "pre", "em", "strong", "h1", "h2", "h3",
                               "h4", "h5", "h6", "hr", "ul", "ol", "li", "blockquote")
                or attrs]


def test_markdown_inert_reads_as_the_text_where_shown_as_text():
    assert markdown_inert("softmax([1000, 1000]) should be [0.5, 0.5]") == \
        "softmax([1000, 1000]) should be [0.5, 0.5]"


# ---------------------------------------------------------------- HTML


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markdown_html_keeps_only_the_allow_list(payload):
    out = markdown_html("Intro *text*\n\n" + payload + "\n\nafter")
    assert_allow_listed(out)
    assert "script" not in {t for t, _ in elements(out).tags}
    assert "after" in out


def test_markdown_html_keeps_what_a_student_answer_needs():
    out = markdown_html("# Answer\n\nThe **loss** is `L`, see [docs](https://numpy.org).\n\n"
                        "| a | b |\n|---|---|\n| 1 | 2 |\n\n- one\n- two\n\n"
                        "![plot](data:image/png;base64,iVBORw0KGgo=)\n\n$x^2$")
    tags = {t for t, _ in elements(out).tags}
    assert {"h1", "strong", "code", "a", "table", "td", "li", "img"} <= tags
    assert 'href="https://numpy.org"' in out and 'src="data:image/png;base64,iVBORw0KGgo="' in out
    assert "$x^2$" in out and out.startswith(f'<div class="{untrusted.NO_MATH}">')
    assert markdown_html("$x^2$", math=True) == "<div><p>$x^2$</p>&#10;</div>"


def test_markdown_html_shows_an_unrenderable_or_huge_source_as_text(monkeypatch):
    huge = "<script>x</script>" * (untrusted.MAX_MARKDOWN_CHARS // 10)
    out = markdown_html(huge)
    assert out.startswith("<pre") and "&lt;script&gt;" in out
    monkeypatch.setattr(untrusted, "_renderer", lambda: (_ for _ in ()).throw(RecursionError))
    assert markdown_html("<b>x</b>") == text_html("<b>x</b>")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(PAYLOADS + ["\n\n", "**b**", "<p>", "</div>", "<pre>", "`",
                                            "\"", "'", "=", "<", ">", "\udc80", "x"]),
                max_size=12))
def test_markdown_html_keeps_only_the_allow_list_whatever_is_mixed(parts):
    out = markdown_html("".join(parts))
    assert_allow_listed(out)
    out.encode("utf-8")


def test_text_html_is_escaped_text():
    out = text_html("<script>alert(1)</script>\x1b[31m\udc80")
    assert elements(out).tags == [("pre", {"class": untrusted.NO_MATH,
                                           "style": "white-space: pre-wrap"})]
    assert "&lt;script&gt;" in out and "\x1b" not in out and "\ufffd" in out


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(PAYLOADS + ["\n\n", "\n", "    indented\n", "```\n", "* x\n",
                                            "# h\n", "[a]: javascript:x\n", "\r\n", "x"]),
                max_size=12))
def test_formgraders_markdown_rendering_shows_our_html_as_it_is(parts):
    """formgrader renders a Markdown cell with nbconvert's renderer, unsanitised: the HTML
    we store must come out exactly as stored, never read as Markdown a second time."""
    source = "".join(parts)
    for stored in (markdown_html(source), text_html(source)):
        assert "\n" not in stored
        assert _rendered(stored).strip() == stored


# ------------------------------------------------------ the renderer's cost is bounded
def _counting_renderer(monkeypatch):
    """Make the renderer record the length of every source it is given."""
    given_chars = []
    real = untrusted._renderer

    def renderer():
        r = real()

        class Counting:
            def render(self, source):
                given_chars.append(len(source))
                return r.render(source)
        return Counting()
    monkeypatch.setattr(untrusted, "_renderer", renderer)
    return given_chars


def test_one_notebooks_markdown_reaches_the_renderer_only_up_to_its_budget(monkeypatch):
    given_chars = _counting_renderer(monkeypatch)
    budget = untrusted.MarkdownBudget()
    cell = "<div>" * (untrusted.MAX_MARKDOWN_CHARS // 5)     # nested tags: the costly case
    shown = [budget.html(cell) for _ in range(3 * untrusted.MAX_NOTEBOOK_MARKDOWN_CHARS
                                                // len(cell))]
    assert sum(given_chars) <= untrusted.MAX_NOTEBOOK_MARKDOWN_CHARS
    assert len(given_chars) == untrusted.MAX_NOTEBOOK_MARKDOWN_CHARS // len(cell)
    # Past the budget each cell is still shown, as escaped text.
    assert all(s == text_html(cell) for s in shown[len(given_chars):])
    assert "&lt;div&gt;" in shown[-1]


def test_a_cell_over_the_cell_bound_is_text_and_later_cells_still_render(monkeypatch):
    given_chars = _counting_renderer(monkeypatch)
    budget = untrusted.MarkdownBudget()
    big = "*a" * untrusted.MAX_MARKDOWN_CHARS
    assert budget.html(big) == text_html(big)
    assert given_chars == []
    assert "<strong>" in budget.html("**fine**") and given_chars == [len("**fine**")]


def test_the_release_notebooks_markdown_all_renders():
    from autograder.assignments.softmax.samples import build
    budget = untrusted.MarkdownBudget()
    cells = [c.source for c in build().cells if c.cell_type == "markdown"]
    assert cells and not any(budget.html(c).startswith("<pre") for c in cells)

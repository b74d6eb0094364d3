"""Student text: valid where it enters the grader, and in each sink's own safe form where it leaves.

Every string a student controls (cell sources, grade ids and kernel names of the notebook,
exception messages, warnings and type names that come back from the jail, what the tamper
watch saw their code open, folder names) enters the grader through one of these doors, and
each door passes what it decoded through `valid_tree`:
- the jail's reply, decoded in `sandbox/session.py` (`WorkerProcess.request`);
- the notebook reader child's reply, decoded in `reader.py`;
- a stored result read back from OUT/results/ (`results.ResultStore.load`);
- folder names, decoded with backslash escapes in `discover.py`.
Past a door every string is valid Unicode and encodes as UTF-8: a code point that cannot
(a lone surrogate) is replaced by U+FFFD, the replacement character, which marks the spot.

Each sink then gets the text in its own safe form, from one function here or from the
sink's own escaping:

    feedback HTML                     jinja's autoescape (reports/feedback.py)
    autograded notebook (formgrader)  `markdown_html` for Markdown cells, `text_html` for
                                      raw cells and our notes (each kept as a Markdown cell
                                      whose HTML every renderer shows as it is),
                                      `output_text` for outputs
    gradebook comments                `markdown_inert` (formgrader shows them as text,
                                      `nbgrader generate_feedback` renders them as Markdown)
    CSV                               `csv_cell`
    terminal                          `terminal`
    JSON (Gradescope, OUT/results)    valid text is all JSON needs (json.dumps escapes)

Markdown is rendered by nbconvert's own renderer (the one formgrader uses) and then cleaned
by bleach (a dependency of nbconvert, its sanitiser) against an allow-list: plain text
markup, tables, links to http(s)/mailto/#fragments, images only as inline raster data.
Everything else is dropped, the text inside kept as text. Math is shown as its TeX source
(the `NO_MATH` classes keep MathJax away from student text), but in the release's own
Markdown cells, which are the instructor's.
"""
import html
import re
import unicodedata
import urllib.parse
from pathlib import Path

REPLACEMENT = "\ufffd"
# What the renderer and the sanitiser are given is bounded, per cell and per notebook, so
# that their time is bounded by what a student can make them parse: their cost grows
# faster than the text (nested tags cost about 0.5 s at 8 KB, 2 s at 16 KB, 17 s at
# 64 KB), and they run in the grader's own process, once per notebook, after the batch.
# Past either bound a source is shown as text, unrendered (escaping is linear).
MAX_MARKDOWN_CHARS = 8 * 1024                  # one cell (the release's largest: 3 KB)
MAX_NOTEBOOK_MARKDOWN_CHARS = 128 * 1024       # all of one notebook's (the release: 20 KB)

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s",
    "span", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul"})
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
_DATA_IMAGE = re.compile(r"data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*\Z")
_CODE_CLASS = re.compile(r"language-[A-Za-z0-9_+-]{1,40}\Z")
# The classes MathJax 2 (formgrader's, nbconvert's pages) and MathJax 3 (JupyterLab) skip.
NO_MATH = "tex2jax_ignore mathjax_ignore"


# ---------------------------------------------------------------- the doors


def valid(text):
    """`text` as valid Unicode: every code point UTF-8 cannot encode (a lone surrogate)
    replaced by U+FFFD. Valid text comes back unchanged (the same object)."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return "".join(REPLACEMENT if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)


def valid_tree(obj):
    """`obj` (decoded JSON: dicts, lists, strings, numbers, arrays) with every string,
    keys included, made `valid`. Other values pass unchanged."""
    if isinstance(obj, str):
        return valid(obj)
    if isinstance(obj, dict):
        return {valid_tree(k): valid_tree(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [valid_tree(v) for v in obj]
    return obj


# ---------------------------------------------------------------- plain sinks


def _control(c, keep):
    return c not in keep and unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")


def terminal(text, keep=""):
    """`text` for a terminal: control and format characters (escape sequences, newlines,
    carriage returns, bidirectional overrides) shown as Python escapes, except those in
    `keep`; so it cannot move the cursor, recolour, or forge a line of our own."""
    text = valid(str(text))
    return "".join(repr(c)[1:-1] if _control(c, keep) else c for c in text)


def output_text(text):
    """Multi-line text for a notebook's stream output: `terminal` keeping newlines and
    tabs (an output is shown through an ANSI-to-HTML filter that would obey escapes)."""
    return terminal(text, keep="\n\t")


def csv_cell(text):
    """`text` safe to open in a spreadsheet: never read as a formula (OWASP's CSV-injection
    advice: a leading `'` when its first non-blank character is = + - @ TAB or CR)."""
    text = valid(str(text))
    if text.startswith(FORMULA_START) or text.lstrip().startswith(FORMULA_START):
        return "'" + text
    return text


_MD_ACTIVE = re.compile(r"[\\<$&`#]|\](?=[(\[:])|:(?=//)")


def markdown_inert(text):
    """`text` for a field shown as plain text by one tool and rendered as Markdown by
    another (nbgrader's comments): a backslash before each character that could start
    HTML (`<`), an entity (`&`), code (`` ` ``), math (`$`), a link or image (`](`, `][`, `]:`, the
    `://` of a bare URL), a heading with its anchor (`#`) or an escape (`\\`).
    Rendered, it reads as the text itself; as text, it reads with a few backslashes."""
    return _MD_ACTIVE.sub(lambda m: "\\" + m.group(0), valid(str(text)))


# ---------------------------------------------------------------- HTML for formgrader


def _one_line(block):
    """An HTML block as one line, its newlines as character references (the same text in
    the page). A Markdown renderer passes such a line through as it is (CommonMark's HTML
    block runs to the first blank line), so the Markdown cell that holds it is shown as
    exactly this HTML by formgrader, `nbgrader generate_feedback` and JupyterLab alike:
    nothing inside is read as Markdown a second time."""
    return block.replace("\r", "&#13;").replace("\n", "&#10;")


def text_html(text):
    """`text` as an HTML block shown verbatim: escaped, in a <pre>, out of MathJax's reach,
    on one line (`_one_line`)."""
    return _one_line(f'<pre class="{NO_MATH}" style="white-space: pre-wrap">'
                     + html.escape(output_text(text)) + "</pre>")


def _allowed_url(value, *, image):
    url = html.unescape(value).strip()
    if image:
        return bool(_DATA_IMAGE.match(url))
    if url.startswith("#"):
        return True
    try:
        scheme = urllib.parse.urlsplit(url).scheme.lower()
    except ValueError:
        return False
    return scheme in LINK_SCHEMES


def _attribute(tag, name, value):
    """bleach's attribute filter: the allow-list of (tag, attribute, value)."""
    if tag == "a":
        return name == "title" or (name == "href" and _allowed_url(value, image=False))
    if tag == "img":
        return name in ("alt", "title") or (name == "src" and _allowed_url(value, image=True))
    if tag in ("td", "th"):
        return name == "align"
    if tag == "ol":
        return name == "start" and value.isdigit()
    if tag == "code":
        return name == "class" and bool(_CODE_CLASS.match(value))
    return False


def _renderer():
    """nbconvert's Markdown renderer (formgrader's), but an attachment it does not have
    (the grader keeps none) is left to the sanitiser instead of failing the page."""
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    class Renderer(IPythonRenderer):
        def _embed_image_or_attachment(self, src):
            return src

    return MarkdownWithMath(renderer=Renderer(escape=False, allow_harmful_protocols=False))


# The libraries whose code decides what `markdown_html` returns (with this module): a
# rendering kept between runs (record/nbgrader/autograded.release_markdown) is made
# again when any of their files named here changes, as it does with their version.
RENDERER_FILES = {"nbconvert": ("_version.py", "filters/markdown_mistune.py"),
                  "mistune": ("__init__.py",), "bleach": ("__init__.py",),
                  "pygments": ("__init__.py",)}


def renderer_files():
    """The files whose bytes decide what `markdown_html` returns: this module and
    RENDERER_FILES of each library installed (found without importing any of them)."""
    import importlib.util
    files = [Path(__file__)]
    for package, names in RENDERER_FILES.items():
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            folder = Path(spec.submodule_search_locations[0])
            files += [folder / n for n in names if (folder / n).is_file()]
    return files


def markdown_html(source, *, math=False):
    """A student's Markdown cell as safe HTML on one line (`_one_line`): rendered as
    formgrader renders it, then cleaned by bleach against the module's allow-list
    (`ALLOWED_TAGS`, `_attribute`). A source the renderer cannot take, or too long, is
    shown as text. Its formulas are shown as TeX, out of MathJax's reach, unless `math`
    (for the instructor's own text: a cell of the release, unchanged)."""
    import bleach

    source = valid(str(source))
    if len(source) > MAX_MARKDOWN_CHARS:
        return text_html(source)
    try:
        rendered = _renderer().render(source)
    except Exception:  # noqa: BLE001 - any renderer failure: the text is still shown
        return text_html(source)
    clean = bleach.clean(rendered, tags=ALLOWED_TAGS, attributes=_attribute,
                         protocols=LINK_SCHEMES | {"data"}, strip=True, strip_comments=True)
    return _one_line(f"<div>{clean}</div>" if math else f'<div class="{NO_MATH}">{clean}</div>')


class MarkdownBudget:
    """`markdown_html` for the Markdown cells of ONE notebook, in order: rendered while
    the notebook's rendered sources total at most `chars` (MAX_NOTEBOOK_MARKDOWN_CHARS),
    each cell as `markdown_html` takes it; a source that would pass the total is shown
    as text (`text_html`) and does not count, so later, smaller cells still render.
    The renderer's time per notebook is then bounded however many cells it has."""

    def __init__(self, chars=MAX_NOTEBOOK_MARKDOWN_CHARS):
        self.left = chars

    def html(self, source):
        source = valid(str(source))
        if len(source) > min(self.left, MAX_MARKDOWN_CHARS):
            return text_html(source)
        self.left -= len(source)
        return markdown_html(source)

"""Classes 151 and 152 (issue 15, items 1 and 2): student text aimed at the grader's outputs.

Class 151, stored XSS: a submission whose Markdown cells, raw cells, attachments, saved
outputs and exception messages carry script, each payload written differently (a tag, an
event handler, a URL scheme, an entity, a broken fence, an SVG, an iframe). Every payload,
if it ever ran, records its name in `top.__xss` and renames the page: a browser test (and
the batch's offline scan) finds it there or in a live element.

Class 152, invalid text: every string a student controls made invalid Unicode, by two
routes (lone surrogates escaped in the notebook's JSON; surrogate-escaped bytes made at run
time in the jail); a folder name that is not UTF-8 is class 7's (`files.BYTE_NAMES`).
"""
import base64
import functools
import html.parser
import json
import os

import nbformat

from autograder.assignments.softmax.samples import build

MARK = "__xss"


def js(tag):
    """A script that records that payload `tag` ran."""
    return f"top.{MARK}=(top.{MARK}||[]).concat(['{tag}']);document.title='pwned {tag}'"


MARKDOWN = {
    "md-script": f"<script>{js('md-script')}</script>",
    "md-img-onerror": f"<img src=x onerror=\"{js('md-img-onerror')}\">",
    "md-svg-onload": f"<svg onload=\"{js('md-svg-onload')}\"><circle r=4></circle></svg>",
    "md-svg-script": f"<svg><script>{js('md-svg-script')}</script></svg>",
    "md-details-ontoggle": f"<details open ontoggle=\"{js('md-details-ontoggle')}\">d</details>",
    "md-iframe-srcdoc": ("<iframe srcdoc=\"&lt;script&gt;"
                         + js('md-iframe-srcdoc').replace("'", "&#39;")
                         + "&lt;/script&gt;\"></iframe>"),
    "md-object-data": ("<object data=\"data:text/html;base64,"
                       + base64.b64encode(f"<script>{js('md-object-data')}</script>".encode()).decode()
                       + "\"></object>"),
    "md-link-javascript": f"[click me](javascript:{js('md-link-javascript')})",
    "md-link-entity": f"<a href=\"&#106;avascript:{js('md-link-entity')}\">click</a>",
    "md-comment-breakout": f"<!--><img src=x onerror=\"{js('md-comment-breakout')}\">-->",
    "md-fence-breakout": f"```\n</code></pre><script>{js('md-fence-breakout')}</script>\n```",
    "md-style-import": "<style>@import 'https://attacker.invalid/x.css'; body{display:none}</style>",
    "md-remote-pixel": "![pixel](https://attacker.invalid/pixel.png)",
    "md-base-href": "<base href=\"https://attacker.invalid/\">",
}

RAW = {
    "raw-html-script": ({"raw_mimetype": "text/html"}, f"<script>{js('raw-html-script')}</script>"),
    "raw-html-img": ({"raw_mimetype": "text/html"}, f"<img src=x onerror=\"{js('raw-html-img')}\">"),
    "raw-untyped": ({}, f"<script>{js('raw-untyped')}</script>"),
    "raw-markdown": ({"raw_mimetype": "text/markdown"},
                     f"<img src=x onerror=\"{js('raw-markdown')}\">"),
}


def _b64(text):
    return base64.b64encode(text.encode()).decode()


ATTACHMENTS = {
    "evil.svg": {"image/svg+xml": _b64(f"<svg xmlns='http://www.w3.org/2000/svg' "
                                       f"onload=\"{js('att-svg')}\"><script>{js('att-svg-script')}"
                                       "</script></svg>")},
    "page.png": {"text/html": _b64(f"<script>{js('att-html')}</script>")},
}

OUTPUTS = [
    {"output_type": "display_data", "metadata": {},
     "data": {"text/html": f"<script>{js('out-html-script')}</script>"
                           f"<img src=x onerror=\"{js('out-html-img')}\">",
              "application/javascript": js("out-javascript"),
              "image/svg+xml": f"<svg onload=\"{js('out-svg')}\"></svg>",
              "text/markdown": f"<img src=x onerror=\"{js('out-markdown')}\">",
              "text/plain": "a plot"}},
    {"output_type": "execute_result", "execution_count": 1, "metadata": {},
     "data": {"text/html": f"<iframe src=\"javascript:{js('out-iframe')}\"></iframe>",
              "text/plain": "1"}},
    {"output_type": "stream", "name": "stdout",
     "text": f"\x1b[31m<script>{js('out-stream')}</script>\x1b[0m\n"},
    {"output_type": "error", "ename": f"<img src=x onerror=\"{js('out-ename')}\">",
     "evalue": f"<script>{js('out-evalue')}</script>",
     "traceback": [f"\x1b[0;31m<script>{js('out-traceback')}</script>\x1b[0m"]},
]

VISIBLE = "XSS-SUITE: this sentence is the student's own text and must be shown"


def xss_markdown():
    """A perfect notebook with every Markdown payload in cells of its own."""
    nb = build()
    nb.cells.append(nbformat.v4.new_markdown_cell(f"## {VISIBLE}\n\nSome **bold** answer."))
    nb.cells += [nbformat.v4.new_markdown_cell(p) for p in MARKDOWN.values()]
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python",
                                 "display_name": f"<script>{js('kernel-name')}</script>"}
    return nb


def xss_raw_and_attachments():
    """A perfect notebook with raw cells of each raw type, and Markdown showing attachments."""
    nb = build()
    for meta, source in RAW.values():
        cell = nbformat.v4.new_raw_cell(source)
        cell.metadata.update(meta)
        nb.cells.append(cell)
    cell = nbformat.v4.new_markdown_cell("![svg](attachment:evil.svg) ![html](attachment:page.png)")
    cell["attachments"] = ATTACHMENTS
    nb.cells.append(cell)
    return nb


def xss_outputs():
    """A perfect notebook whose saved outputs (graded cells' and an extra cell's) carry script."""
    nb = build()
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [nbformat.from_dict(o) for o in OUTPUTS]
            cell.execution_count = 1
    extra = nbformat.v4.new_code_cell(f"# </script><script>{js('code-source')}</script>")
    extra.outputs = [nbformat.from_dict(o) for o in OUTPUTS]
    nb.cells.append(extra)
    return nb


def _raising(message_expr, prelude=""):
    """Solution cells whose every function raises an exception carrying `message_expr`."""
    head = prelude + f"\ndef _boom(*args, **kwargs):\n    raise ValueError({message_expr})\n"
    return {
        "softmax": head + "def softmax(x):\n    return _boom()",
        "softmax_backward": head + "def softmax_backward(dout, y):\n    return _boom()",
        "cross_entropy_error": head + "def cross_entropy_error(y, t):\n    return _boom()",
        "SoftmaxWithLoss": head + ("class SoftmaxWithLoss:\n    def forward(self, x, t):\n"
                                   "        return _boom()\n    def backward(self, dout=1):\n"
                                   "        return _boom()"),
        "softmax_loss_naive": head + "def softmax_loss_naive(W, X, y, reg):\n    return _boom()",
        "softmax_loss_vectorized": head + ("def softmax_loss_vectorized(W, X, y, reg):\n"
                                           "    return _boom()"),
    }


def xss_messages():
    """Every function raises a message of payloads: the feedback page, Gradescope JSON,
    the autograded notebook's verdicts and the gradebook's comments all quote it."""
    payloads = [MARKDOWN[k] for k in ("md-script", "md-img-onerror", "md-link-javascript",
                                      "md-comment-breakout")]
    return build(_raising(repr(" ".join(payloads) + " $\\href{javascript:alert(1)}{x}$")))


# ---------------------------------------------------------------- class 152

SURROGATES = "\udc80\ud800<b>\udfff"


def write_json_surrogates(subs, name):
    """Lone surrogates escaped in the notebook's JSON, in every cell, grade id and kernel
    name, and in the messages the code raises, warns and prints."""
    nb = build(_raising(repr(SURROGATES * 3), prelude=(
        f"import os, sys, warnings\nwarnings.warn({SURROGATES!r})\n"
        f"os.write(1, {SURROGATES!r}.encode('utf-8', 'surrogatepass'))")))
    nb.metadata["kernelspec"] = {"name": SURROGATES, "display_name": SURROGATES,
                                 "language": SURROGATES}
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source += "\n\n" + SURROGATES
    nb.cells.append(nbformat.v4.new_raw_cell(SURROGATES))
    extra = nbformat.v4.new_code_cell(f"x = {SURROGATES!r}")
    extra.metadata["nbgrader"] = {"grade_id": SURROGATES}
    nb.cells.append(extra)
    folder = os.path.join(os.fsencode(subs), os.fsencode(name))
    os.makedirs(folder)
    with open(os.path.join(folder, b"softmax.ipynb"), "w", encoding="ascii") as f:
        f.write(json.dumps(nb))      # each lone surrogate as a \udc80 escape


def runtime_surrogates():
    """Valid notebook text, invalid text made at run time: surrogate-escaped bytes in the
    exception, in the warning, in a type's name and in what the code prints."""
    prelude = ("import os, sys, warnings\n"
               "_BAD = bytes(range(0x80, 0x100)).decode('utf-8', 'surrogateescape')\n"
               "warnings.warn(_BAD)\n"
               "sys.stdout.write(_BAD.encode('utf-8', 'surrogateescape').decode('latin-1'))\n"
               "os.write(2, bytes(range(0x80, 0x100)))\n")
    return build(_raising("_BAD + os.fsdecode(b'\\xff\\xfe')", prelude=prelude))


# ---------------------------------------------------------------- the offline scan


class _Scan(html.parser.HTMLParser):
    """Elements of a page that would run a payload (see `live_payloads`)."""

    URL_ATTRS = ("href", "src", "action", "data", "formaction", "xlink:href")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found, self.in_script = [], False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            v = "".join((value or "").lower().split())
            if name.startswith("on") and MARK in v:
                self.found.append(f"<{tag} {name}>")
            if name in self.URL_ATTRS and v.startswith("javascript:"):
                self.found.append(f"<{tag} {name}={v[:30]}>")
            if name == "srcdoc":
                self.found.append(f"<{tag} srcdoc>")
        if tag in ("object", "embed", "base"):
            self.found.append(f"<{tag}>")
        self.in_script = tag == "script"

    def handle_endtag(self, tag):
        self.in_script = False

    def handle_data(self, data):
        if self.in_script and MARK in data:
            self.found.append("<script> with a payload")


def live_payloads(page):
    """What in HTML text `page` would run a payload of this module: an event handler or
    script element carrying MARK, a javascript: URL, an iframe's srcdoc, an object, embed
    or base element. [] for a page where every payload is text or gone."""
    scan = _Scan()
    scan.feed(page)
    scan.close()
    return scan.found


@functools.lru_cache(maxsize=1)
def _formgrade_exporter():
    from nbconvert.exporters import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config import Config
    c = Config()
    c.HTMLExporter.template_name = "formgrade"
    c.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    return HTMLExporter(config=c)


def formgrader_html(notebook_path):
    """The page formgrader serves for an autograded notebook (nbgrader's formgrade
    template through nbconvert, as its SubmissionHandler renders it)."""
    page, _ = _formgrade_exporter().from_filename(
        str(notebook_path), resources={"base_url": "", "index": 0, "total": 1,
                                       "notebook_id": "softmax", "submission_id": "x"})
    return page

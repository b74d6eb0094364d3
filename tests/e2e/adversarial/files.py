"""Classes 2, 3 and 7 as folders: hostile files, symbolic links, folder names.

Each maker writes SUBMISSIONS/<name> given a `Ctx` (the batch's base folder,
the secret notebook outside SUBMISSIONS and its marker). The secret is a
PERFECT notebook whose text carries a unique marker: a grader that follows a
link to it would give full marks and could echo the marker.
"""
import json
import os
import socket
import stat
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.assignments.softmax.samples import build, write


@dataclass
class Ctx:
    base: Path          # world-readable folder holding SUBMISSIONS, the secret, the outputs
    secret: Path        # base/secret/softmax.ipynb: perfect, carries `marker`
    marker: str


def secret_notebook(marker):
    nb = build()
    nb.metadata["h7_secret"] = marker
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(f"secret {marker}"))
    return nb


def perfect_json():
    return nbformat.writes(build()).encode()


def _folder(subs, name):
    d = Path(subs) / name
    d.mkdir(parents=True, exist_ok=True)
    return d


def link(target):
    def make(subs, name, ctx):
        os.symlink(target(ctx) if callable(target) else target, _folder(subs, name) / "softmax.ipynb")
    return make


def with_metadata(blob, key="h7"):
    """The perfect notebook with `blob` (raw JSON bytes) as a metadata value."""
    def make(subs, name, ctx):
        nb = build()
        nb.metadata[key] = "@@BLOB@@"
        text = nbformat.writes(nb).encode()
        (_folder(subs, name) / "softmax.ipynb").write_bytes(
            text.replace(b'"@@BLOB@@"', blob() if callable(blob) else blob))
    return make


def tiny_dicts(total_bytes):
    def blob():
        n = total_bytes // 9
        return b"[" + b'{"a":{}},' * n + b'{"a":{}}]'
    return blob


def fifo(subs, name, ctx):
    os.mkfifo(_folder(subs, name) / "softmax.ipynb")


def unix_socket(subs, name, ctx):
    path = _folder(subs, name) / "softmax.ipynb"
    s = socket.socket(socket.AF_UNIX)
    try:
        s.bind(str(path))
    finally:
        s.close()


def dir_named_ipynb(subs, name, ctx):
    inner = _folder(subs, name) / "softmax.ipynb"
    inner.mkdir()
    (inner / "softmax.ipynb").write_bytes(perfect_json())


def mode_000_file(subs, name, ctx):
    p = write(subs, name, build())
    p.chmod(0)


def mode_000_folder(subs, name, ctx):
    p = write(subs, name, build())
    p.parent.chmod(0)


def huge_string(subs, name, ctx):
    nb = build()
    nb.cells.append(nbformat.v4.new_markdown_cell("x" * (19 << 20)))
    write(subs, name, nb)


def many_cells(subs, name, ctx):
    nb = build()
    text = nbformat.writes(nb)
    data = json.loads(text)
    data["cells"] += [{"cell_type": "raw", "id": f"r{i}", "metadata": {}, "source": ""}
                      for i in range(150_000)]
    (_folder(subs, name) / "softmax.ipynb").write_text(json.dumps(data))


def invalid_utf8(subs, name, ctx):
    text = perfect_json()
    i = text.index(b'"', text.index(b'"source": ') + 9) + 1     # inside the first source string
    (_folder(subs, name) / "softmax.ipynb").write_bytes(text[:i] + b"\xff\xfe\xc3\x28 " + text[i:])


def sparse_zeros(subs, name, ctx):
    with open(_folder(subs, name) / "softmax.ipynb", "wb") as f:
        f.truncate(19 << 20)


def source_as_char_list(subs, name, ctx):
    """Cell sources as lists of one-character strings: 4 M tiny strings."""
    data = json.loads(perfect_json())
    for c in data["cells"]:
        if c["cell_type"] == "markdown":
            c["source"] = list("".join(c["source"]) if isinstance(c["source"], list) else c["source"])
    data["cells"].append({"cell_type": "markdown", "id": "big", "metadata": {},
                          "source": ["y"] * 3_000_000})
    (_folder(subs, name) / "softmax.ipynb").write_text(json.dumps(data))


def many_files(subs, name, ctx):
    folder = _folder(subs, name)
    (folder / "softmax.ipynb").write_bytes(perfect_json())
    for i in range(20_000):
        (folder / f"f{i:05d}.txt").touch()


FILES = {
    # name: (maker, how)
    "file-proc-self-mem": (link("/proc/self/mem"), "softmax.ipynb -> /proc/self/mem"),
    "file-proc-pagemap": (link("/proc/self/pagemap"), "softmax.ipynb -> /proc/self/pagemap"),
    "file-dev-zero": (link("/dev/zero"), "softmax.ipynb -> /dev/zero"),
    "file-dev-urandom": (link("/dev/urandom"), "softmax.ipynb -> /dev/urandom"),
    "file-fifo": (fifo, "softmax.ipynb is a FIFO nobody writes to"),
    "file-socket": (unix_socket, "softmax.ipynb is a unix socket"),
    "file-dir-named-ipynb": (dir_named_ipynb, "softmax.ipynb is a folder holding a perfect notebook"),
    "file-mode-000": (mode_000_file, "a perfect notebook with mode 000"),
    "folder-mode-000": (mode_000_folder, "the student folder has mode 000"),
    "file-50mb-metadata": (with_metadata(tiny_dicts(50 << 20)), "50 MB of tiny metadata dicts"),
    "file-19mb-metadata": (with_metadata(tiny_dicts(19 << 20)),
                           "19 MB of tiny metadata dicts (under a 20 MB cap)"),
    "file-deep-nesting": (with_metadata(lambda: b"[" * 300_000 + b"]" * 300_000),
                          "metadata nested 300 000 lists deep"),
    "file-huge-string": (huge_string, "one 19 MB markdown string"),
    "file-many-cells": (many_cells, "150 000 empty raw cells"),
    "file-invalid-utf8": (invalid_utf8, "bytes that are not UTF-8 in a cell"),
    "file-sparse-zeros": (sparse_zeros, "a 19 MB sparse file of zero bytes"),
    "file-char-list-source": (source_as_char_list, "3 M one-character source strings"),
    "file-huge-int": (with_metadata(lambda: b"9" * 300_000), "a metadata number of 300 000 digits"),
    "folder-many-files": (many_files, "a perfect notebook beside 20 000 other files"),
}

def markdown_flood(cells, source):
    """The perfect notebook with `cells` more Markdown cells of `source`: text whose
    rendering for formgrader (autograded/) costs the grader far more than its length."""
    def make(subs, name, ctx):
        nb = build()
        nb.cells += [nbformat.v4.new_markdown_cell(source) for _ in range(cells)]
        write(subs, name, nb)
    return make


# Markdown that makes the renderer and the sanitiser slow, in the grader's own process
# after the batch: each would hold every other student's reports back for an hour.
STALL = {
    # Cells of tags nested 12 000 deep (about 17 s each, unbounded: 40 of them, 11 min).
    "md-nested-divs": (markdown_flood(40, "<div>" * 12000),
                       "40 Markdown cells of 12 000 nested <div>"),
    # Many small cells of emphasis runs, each cheap, together not (about 0.3 s each).
    "md-many-emphasis-cells": (markdown_flood(1500, "*_" * 3000),
                               "1500 Markdown cells of 6 KB of *_ runs"),
}

def format_field(text):
    """The perfect notebook whose `nbformat` field is `text`: unreadable, and quoted back
    in the row's problem."""
    def make(subs, name, ctx):
        nb = json.loads(nbformat.writes(build()))
        nb["nbformat"] = text
        (_folder(subs, name) / "softmax.ipynb").write_text(json.dumps(nb))
    return make


def raising(text):
    """The perfect notebook whose softmax raises `text`."""
    def make(subs, name, ctx):
        write(subs, name, build({"softmax": f"def softmax(x):\n    raise RuntimeError({text!r})\n"}))
    return make


# Student text that reads like the grader's own failure: it must stay the student's
# result (cached, an attempt like any other), never taken for an internal error.
WORDS = {
    "words-internal-error-format": (format_field("internal grader error"),
                                    "the notebook's format field says 'internal grader error'"),
    "words-internal-error-raised": (raising("not graded: internal grader error (KeyError)"),
                                    "softmax raises 'internal grader error'"),
}

LINKS = {
    "link-other-student": (link("../honest-perfect/softmax.ipynb"),
                           "softmax.ipynb -> another student's notebook"),
    "link-secret-absolute": (link(lambda ctx: str(ctx.secret)),
                             "softmax.ipynb -> a perfect notebook outside SUBMISSIONS"),
    "link-secret-chain": (link(lambda ctx: str(ctx.base / "chain1")), "a chain of two links"),
    "link-proc-root": (link(lambda ctx: "/proc/self/root" + str(ctx.secret)),
                       "softmax.ipynb -> /proc/self/root/<secret>"),
    "link-relative-escape": (link(lambda ctx: "../../" + ctx.secret.relative_to(ctx.base).as_posix()),
                             "softmax.ipynb -> ../../secret/softmax.ipynb"),
    "link-etc-shadow": (link("/etc/shadow"), "softmax.ipynb -> /etc/shadow"),
    "link-dangling": (link("/nonexistent-h7/softmax.ipynb"), "a dangling link"),
}


def link_folder(subs, name, ctx):
    os.symlink(ctx.secret.parent, Path(subs) / name)


def link_nbgrader_inner(subs, name, ctx):
    os.symlink(ctx.secret.parent, _folder(subs, name) / "softmax")


def link_other_name(subs, name, ctx):
    os.symlink(ctx.secret, _folder(subs, name) / "my work.ipynb")


def link_extra_files(subs, name, ctx):
    """A real perfect notebook, beside links to the secret under names a copy
    of the submission folder (nbgrader's autograded/) would take along."""
    folder = _folder(subs, name)
    (folder / "softmax.ipynb").write_bytes(perfect_json())
    os.symlink(ctx.secret, folder / "notes.txt")
    os.symlink(ctx.secret, folder / "softmax.py")
    os.symlink(ctx.secret.parent, folder / "data")


LINKS.update({
    "link-folder": (link_folder, "the student folder itself -> a folder outside"),
    "link-nbgrader-inner": (link_nbgrader_inner, "<student>/softmax/ -> a folder outside"),
    "link-other-name": (link_other_name, "the only notebook, under another name, is a link"),
})

# Folder names (class 7): each holds a perfect notebook and must get the
# perfect row under a recognisable name.
NAMES = [
    "a,b", "bad name", "José", ".hidden", "-x", "x<script>alert(1)", "<img src=x onerror=alert(2)>",
    "=cmd|' calc'!A0", "+SUM(A1)", "@risk", "-2+3", "new\nline", "tab\there", "cr\rname",
    'quote"d', "back\\slash", "emoji-😀", "L" * 200, "...", "results", "feedback",
    "grades.csv", "%2e%2e", "\u202eevil", "softmax", "softmax.ipynb", "submitted",
    "nbgrader_config.py",
]
# Not valid UTF-8: a name only bytes can spell.
BYTE_NAMES = [b"bytes-\xff\xfe"]


def prepare_secret(base, marker):
    secret = Path(base) / "secret" / "softmax.ipynb"
    secret.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(secret_notebook(marker), str(secret))
    os.symlink(base / "chain2", base / "chain1")
    os.symlink(secret, base / "chain2")
    return secret


def world_readable(root):
    """Folders 755 and files 644, except what an attack made unreadable on purpose."""
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode) or stat.S_IMODE(st.st_mode) == 0:
                continue
            os.chmod(p, 0o755 if stat.S_ISDIR(st.st_mode) else 0o644)
        dirnames[:] = [d for d in dirnames
                       if not os.path.islink(os.path.join(dirpath, d))
                       and stat.S_IMODE(os.lstat(os.path.join(dirpath, d)).st_mode) != 0]

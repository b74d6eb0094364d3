"""Every attack of the batch, with the row it must get (issue 8's classes 1-8; issue 15's
items as classes 151-159: 151 stored XSS and 152 invalid text are in `sinks`).

An `Attack` writes one folder of SUBMISSIONS and says what its row must show:
tests that earn 0, flags that must be there, or that it must equal the honest
perfect row (a perfect notebook in an odd folder) or be either refused as
invalid or graded as the perfect notebook it also is.
"""
import os
from dataclasses import dataclass, field
from pathlib import Path

from autograder.assignments.softmax.samples import build, mistake_overrides, write
from autograder.assignments.softmax.samples.styles import STYLES

from . import code, files, sinks, speed, verdicts, walls

ALL = ("*",)
SPEED_TEST = "test_softmax_loss_vectorized_speed"

HONEST = {
    "honest-perfect": lambda: build(),
    "honest-style": lambda: build(STYLES["einsum_logsumexp"]),
    "honest-mistake": lambda: build(mistake_overrides("naive_reg_2x")),
    # A typical mistake that makes NumPy warn (overflow in exp): honest code
    # with warnings must not look like tampering.
    "honest-warnings": lambda: build(mistake_overrides("softmax_no_max")),
    "honest-blank": lambda: build(perfect=False),
}


@dataclass(frozen=True)
class Expect:
    zero: tuple = ()                        # tests that must earn 0; ALL: every test
    flags_all: frozenset = frozenset()      # flags the row must carry
    flags_any: frozenset = frozenset()      # at least one of these
    full: tuple = ()                        # tests that must earn their points
    perfect: bool = False                   # the honest perfect row, bar the id
    refused_or_perfect: bool = False        # invalid_notebook and 0, or the perfect row


@dataclass(frozen=True)
class Attack:
    name: str
    klass: int
    how: str
    make: object                            # make(subs, name, ctx, opts)
    expect: Expect
    expect_user: Expect = None              # when the grader runs as uid 65534, if different
    tag: str = None                         # comm the code names itself (budget spans)

    def expectation(self, as_user):
        return self.expect_user if as_user and self.expect_user else self.expect


def comm_name(tag, token):
    """The process name a tagged attack gives itself in one batch ("h7" + token + rest):
    unique per batch, so another run of this suite on the machine is not counted."""
    return "h7" + token + tag[2:]


def _code(overrides):
    def make(subs, name, ctx, opts):
        tag = comm_name(opts.get("tag") or "h7", opts.get("token", ""))
        cells = {k: v.replace("{T}", repr(opts["sleep"])).replace("{TAG}", tag)
                 for k, v in overrides.items()}
        write(subs, name, build(cells))
    return make


def _wall(name):
    def make(subs, name_, ctx, opts):
        write(subs, name_, build(walls.cells(name, ports=opts.get("ports"))))
    return make


def _file(maker):
    def make(subs, name, ctx, opts):
        maker(subs, name, ctx)
    return make


def _notebook(make_nb):
    def make(subs, name, ctx, opts):
        write(subs, name, make_nb())
    return make


def _sinks():
    """Classes 151 (stored XSS) and 152 (invalid text), issue 15 items 1 and 2: student
    text aimed at the pages, files and terminal we write."""
    perfect = Expect(perfect=True)
    nothing = Expect(zero=ALL)
    return [
        Attack("xss-markdown", 151, "script in Markdown cells, 14 ways (tags, handlers, "
               "javascript: links, entities, a broken fence, SVG, iframe, remote pixel)",
               _notebook(sinks.xss_markdown), perfect),
        Attack("xss-raw-attachments", 151, "script in raw cells of each raw type and in "
               "attachments (SVG, HTML) a Markdown cell shows", _notebook(
                   sinks.xss_raw_and_attachments), perfect),
        Attack("xss-outputs", 151, "script in saved outputs: HTML, JavaScript, SVG, Markdown, "
               "ANSI stream, error", _notebook(sinks.xss_outputs), perfect),
        Attack("xss-messages", 151, "script in every exception message the checks quote",
               _notebook(sinks.xss_messages), nothing),
        Attack("text-json-surrogates", 152, "lone surrogates escaped in the notebook's JSON: "
               "every cell, grade id, kernel name, message, warning and print",
               _file(lambda subs, name, ctx: sinks.write_json_surrogates(subs, name)), nothing),
        Attack("text-runtime-surrogates", 152, "surrogate-escaped bytes made at run time: "
               "exceptions, warnings, stdout and stderr", _notebook(sinks.runtime_surrogates),
               nothing),
    ]


def _names():
    attacks = []
    for i, n in enumerate(files.NAMES + files.BYTE_NAMES):
        def make(subs, name, ctx, opts, n=n):
            folder = os.path.join(os.fsencode(subs), os.fsencode(n))
            os.mkdir(folder)
            with open(os.path.join(folder, b"softmax.ipynb"), "wb") as f:
                f.write(files.perfect_json())
        shown = os.fsencode(n).decode("utf-8", "backslashreplace")
        attacks.append(Attack(n if isinstance(n, str) else shown, 7,
                              f"a perfect notebook in a folder named {shown!r}", make,
                              Expect(perfect=True)))
    return attacks


def build_catalogue():
    A = []
    for name, cells in speed.SPEED.items():
        A.append(Attack(name, 1, "a per-example loop hidden: " + name[6:], _code(cells),
                        Expect(zero=(SPEED_TEST,))))

    symlink0 = Expect(zero=ALL, flags_all=frozenset({"symlink"}))
    invalid0 = Expect(zero=ALL, flags_any=frozenset({"invalid_notebook", "missing_notebook"}))
    either = Expect(refused_or_perfect=True)
    file_expect = {
        "file-proc-self-mem": symlink0, "file-proc-pagemap": symlink0, "file-dev-zero": symlink0,
        "file-dev-urandom": symlink0, "file-fifo": invalid0, "file-socket": invalid0,
        "file-dir-named-ipynb": invalid0, "file-50mb-metadata": invalid0,
        "file-sparse-zeros": invalid0, "file-19mb-metadata": either, "file-deep-nesting": either,
        "file-huge-string": either, "file-many-cells": either, "file-invalid-utf8": either,
        "file-char-list-source": either, "file-huge-int": either, "folder-many-files": either,
    }
    for name, (maker, how) in files.FILES.items():
        if name in ("file-mode-000", "folder-mode-000"):
            A.append(Attack(name, 2, how, _file(maker), Expect(perfect=True),
                            expect_user=Expect(zero=ALL, flags_any=frozenset({"invalid_notebook"}))))
        else:
            A.append(Attack(name, 2, how, _file(maker), file_expect[name]))
    hows = {"file-magic-lines": "6000 !cmd / %magic lines in a solution cell",
            "file-huge-solution-cell": "900 000 lines of code in a solution cell",
            "file-deep-expression": "an expression nested 200 000 deep in a solution cell"}
    for name, cells in code.MAGIC.items():
        # The cell may be refused (IPython's transform is capped, a parser
        # gives up): only a row and a batch that is not stalled are required.
        A.append(Attack(name, 2, hows[name], _code(cells), Expect()))

    for name, (maker, how) in files.LINKS.items():
        e = symlink0 if name != "link-dangling" else Expect(
            zero=ALL, flags_any=frozenset({"symlink", "missing_notebook"}))
        A.append(Attack(name, 3, how, _file(maker), e))
    A.append(Attack("link-extra-files", 3, "a perfect notebook beside links to the secret "
                    "(notes.txt, softmax.py, data/)", _file(files.link_extra_files), Expect(perfect=True)))
    A.append(Attack("link-swap-race", 3,
                    "softmax.ipynb swapped between a blank notebook and a link to the secret "
                    "while the batch runs", _file(lambda subs, name, ctx: write(
                        subs, name, build(perfect=False))), Expect(zero=ALL)))

    for name, cells in code.REPLY.items():
        A.append(Attack(name, 4, "reply channel: " + name[6:], _code(cells),
                        Expect(zero=("test_softmax_backward",),
                               flags_any=frozenset({"crash", "timeout"}))))

    for i, (name, cells) in enumerate(code.BUDGET.items()):
        # Sleeping only while its cells run stays under the budget: it owes no flag.
        e = Expect() if name == "budget-sleep-in-cells" else Expect(flags_all=frozenset({"timeout"}))
        if name == "budget-sigstop-self":
            # The filter refuses kill(2): the code raises instead of stopping (noted).
            e = Expect(zero=("test_softmax", "test_softmax_backward"),
                       flags_any=frozenset({"timeout", "tampering"}))
        A.append(Attack(name, 5, "correct but slow: " + name[7:], _code(cells), e, tag=f"h7b{i}"))

    cap_expect = {
        "caps-fork-bomb-shell": Expect(flags_any=frozenset({"tampering", "crash"})),
        "caps-thread-hog": Expect(),
        # fork(2) is refused by the allow-list: the pool starts no process (the attack
        # swallows the error), so there is nothing to flag and nothing to cap.
        "caps-process-pool": Expect(),
        "caps-fill-tmpfs": Expect(),
        "caps-memfd-hold": Expect(),
        "caps-tmp-inodes": Expect(),
        "caps-mmap-touch": Expect(zero=("test_cross_entropy_error",)),
        "caps-huge-alloc": Expect(zero=("test_cross_entropy_error",),
                                  flags_any=frozenset({"memory"})),
    }
    for name, cells in code.CAPS.items():
        A.append(Attack(name, 6, "caps: " + name[5:], _code(cells), cap_expect[name]))

    A += _names()
    # Only a perfect row is required; that the batch is not held back is the batch's
    # own bound (test_the_batch_finishes_with_exit_0_in_bounded_time).
    A.append(Attack("words-internal-error-format", 2, files.WORDS["words-internal-error-format"][1],
                    _file(files.WORDS["words-internal-error-format"][0]), invalid0))
    A.append(Attack("words-internal-error-raised", 8, files.WORDS["words-internal-error-raised"][1],
                    _file(files.WORDS["words-internal-error-raised"][0]),
                    Expect(zero=("test_softmax",))))
    for name, (maker, how) in files.STALL.items():
        A.append(Attack(name, 6, how, _file(maker), Expect(perfect=True)))

    # Issue 15: the jail's walls. The attack's own report is test_cross_entropy_error:
    # full points only when it was tried and got nothing through (walls.py).
    held = ("test_cross_entropy_error",)
    noted = frozenset({"tampering"})
    for name in walls.NETWORK:
        A.append(Attack(name, 154, "no network: " + name[4:], _wall(name),
                        Expect(full=held, zero=("test_softmax",), flags_all=noted)))
    for name in walls.INODES:
        # Sockets and ctypes are noted; a FIFO or a file that cannot be made is not.
        e = (Expect(full=held) if name == "ipc-fifo-node-link" else
             Expect(full=held, zero=("test_softmax",), flags_all=noted))
        A.append(Attack(name, 153, "no inode, no IPC: " + name[4:], _wall(name), e))

    for name in walls.PROCS:
        # Opening /proc is no act the tamper watch notes: only the wall is required.
        A.append(Attack(name, 153, "no unfiltered process to write: " + name[5:],
                        _wall(name), Expect(full=held)))

    A += _sinks()

    for name, cells in code.TAMPER.items():
        A.append(Attack(name, 8, "tamper watch switched off: " + name[7:], _code(cells),
                        Expect(zero=("test_softmax",), flags_all=frozenset({"tampering"}))))

    # Issue 15, classes 7-9 (class 6 needs Gradescope: test_adversarial_verdicts.py).
    for name, cells in verdicts.PROBE.items():
        test = next(t for a, b, t in verdicts.PROBE_PAIRS if name in (a, b))
        A.append(Attack(name, 157, "a probe of the hidden expected value: " + name[6:],
                        _code(cells), Expect(zero=(test,))))
    for name, (cells, test) in verdicts.ODD.items():
        # The student's failure of that test: no crash flag, no internal error.
        A.append(Attack(name, 158, "a legal-looking odd return value: " + name[4:],
                        _code(cells), Expect(zero=(test,))))
    from autograder.assignments.softmax.samples.loops import LOOP_STYLES
    for style, src in LOOP_STYLES.items():
        A.append(Attack("speed-style-" + style.replace(" ", "-"), 159,
                        "a plain loop over the examples, " + style,
                        _code({"softmax_loss_vectorized": src}), Expect(zero=(SPEED_TEST,))))
    for name, (cells, tests) in verdicts.FREE.items():
        A.append(Attack(name, 159, "points without the work: " + name[5:], _code(cells),
                        Expect(zero=tests)))
    return A


CATALOGUE = build_catalogue()
BY_NAME = {a.name: a for a in CATALOGUE}


def write_batch(subs, ctx, opts):
    """SUBMISSIONS with the honest students and every attack."""
    subs = Path(subs)
    for sid, make in HONEST.items():
        write(subs, sid, make())
    for a in CATALOGUE:
        a.make(subs, a.name, ctx, dict(opts, tag=a.tag))

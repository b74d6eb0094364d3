"""Notebook bytes -> code to run: what the reader child computes."""
import json
import time

import nbformat

from autograder.assignment import load_spec
from autograder.assignments.softmax import ASSIGNMENT
from autograder.assignments.softmax.samples import build
from autograder.submissions.nbparse import MAX_MAGIC_LINES, parse, python_source
from autograder.submissions.notebook import _request

SPEC = load_spec(ASSIGNMENT)
REQUEST = _request(SPEC)


def data(nb):
    return nbformat.writes(nb).encode()


def cell(nb, gid):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid)


def test_thousands_of_shell_or_magic_lines_are_refused_cheaply():
    for lines in (["!echo {i}"], ["x = !ls {i}"], ["%timeit -n1 {i}", "!cat /etc/passwd"]):
        nb = build()
        body = "".join(lines[i % len(lines)].format(i=i) + "\n" for i in range(5000))
        cell(nb, "softmax_backward").source = body + cell(nb, "softmax_backward").source
        t = time.process_time()
        reply = parse(data(nb), REQUEST)
        assert time.process_time() - t < 5
        assert not reply["ok"] and "softmax_backward has 5000 lines" in reply["problem"]
        assert "at most" in reply["problem"] and "root:" not in reply["problem"]


def test_a_few_magics_become_harmless_python():
    nb = build()
    cell(nb, "softmax").source = "%timeit 1 + 1\n!ls\nfiles = !ls\n" + cell(nb, "softmax").source
    src = dict(parse(data(nb), REQUEST)["cells"])["softmax"]
    compile(src, "<cell>", "exec")
    assert "get_ipython()" in src and MAX_MAGIC_LINES >= 3


def test_plain_cells_skip_ipython():
    src = "def f(a, b):\n    return a % b != 0\n"
    assert python_source(src) is src


def test_magic_lines_in_other_cells_do_not_hide_definitions():
    nb = build({"softmax": "def softmax(x):\n    return _n(np.exp(x))\n"})
    nb.cells.insert(3, nbformat.v4.new_code_cell("%matplotlib inline\n!pip install x\n"
                                                 "def _n(e):\n    return e / e.sum(-1, keepdims=True)\n"))
    nb.cells.insert(4, nbformat.v4.new_code_cell("%%timeit\ndef _n(e):\n    return 0\n"))
    reply = parse(data(nb), REQUEST)
    prelude = [src for name, src in reply["cells"] if name.startswith("#")]
    assert len(prelude) == 1 and "return e / e.sum" in prelude[0] and "pip" not in prelude[0]


def test_tampering_and_copy_pasted_cells():
    nb = build()
    cell(nb, "test_softmax").source += "\nprint('ok')"
    nb.cells.remove(cell(nb, "test_softmax_backward"))
    reply = parse(data(nb), REQUEST)
    assert set(reply["tampered"]) == {"test_softmax", "test_softmax_backward"}


def test_shapes_that_are_not_notebooks_give_one_line():
    cases = [b"", b"null", b"[]", b'{"nbformat": 3, "cells": []}', b'{"nbformat": 4}',
             b'{"nbformat": 4, "cells": [1]}', b'{"nbformat": 4, "cells": [{"cell_type": "code",'
             b' "source": 5}]}', b'{"nbformat": 4.0, "cells": []}', b"\x00\x01",
             json.dumps({"nbformat": 4, "cells": [{"cell_type": "code", "source": "",
                                                   "metadata": []}]}).encode()]
    for raw in cases:
        reply = parse(raw, REQUEST)
        assert reply["ok"] is False, raw
        assert reply["problem"].startswith("the notebook could not be read: ")
        assert "\n" not in reply["problem"]


def test_metadata_of_any_shape_does_not_crash():
    nb = json.loads(data(build()))
    nb["cells"][0]["metadata"] = {"nbgrader": "yes"}
    nb["cells"][1]["metadata"] = {"nbgrader": {"grade_id": ["x"], "grade": "true", "points": "lots"}}
    reply = parse(json.dumps(nb).encode(), REQUEST)
    assert reply["ok"]


def test_a_cell_magic_on_an_exercise_cell_keeps_its_definition():
    """`%%time` runs the body in the notebook: the grader runs it, on the same lines."""
    nb = build()
    ref = cell(nb, "softmax").source
    cell(nb, "softmax").source = "%%time\n" + ref
    src = dict(parse(data(nb), REQUEST)["cells"])["softmax"]
    assert src == "\n" + ref + "\n" or src == "\n" + ref
    cell(nb, "softmax").source = "%%timeit -n1\n" + ref
    reply = parse(data(nb), REQUEST)
    assert "does not keep what its body defines" in reply["unavailable"]["softmax"]
    assert "%%timeit" in reply["unavailable"]["softmax"]


def test_a_helper_under_a_cell_magic_is_a_definition():
    nb = build({"softmax": "def softmax(x):\n    return _n(np.exp(x))\n"})
    nb.cells.insert(3, nbformat.v4.new_code_cell(
        "%%capture\n%%time\ndef _n(e):\n    return e / e.sum(-1, keepdims=True)\n"))
    reply = parse(data(nb), REQUEST)
    prelude = [src for name, src in reply["cells"] if name.startswith("#")]
    assert len(prelude) == 1 and prelude[0].splitlines()[2] == "def _n(e):"
    assert "_n" not in reply["unavailable"]


def test_the_outline_comes_after_the_code_and_leaves_it_as_it_is():
    """Asked for the outline, `replies` gives the same code reply first, then the outline
    of the same cells (types, sources, grade ids; no outputs); asked for none, nothing more."""
    from autograder.submissions.nbparse import replies
    nb = build()
    nb["cells"][0]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x"}]
    plain = list(replies(data(nb), REQUEST))
    both = list(replies(data(nb), {**REQUEST, "outline": True}))
    assert len(plain) == 1 and both[0] == plain[0] == parse(data(nb), REQUEST)
    shown = both[1]["outline"]
    assert [c["cell_type"] for c in shown["cells"]] == [c["cell_type"] for c in nb["cells"]]
    assert all(set(c) == {"cell_type", "metadata", "source"} for c in shown["cells"])
    bad = list(replies(b"not json", {**REQUEST, "outline": True}))
    assert len(bad) == 1 and not bad[0]["ok"]

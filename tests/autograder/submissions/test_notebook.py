"""Reading a submission: only solution cells run; changed test cells are tampering."""
import nbformat
import pytest

from autograder.assignment import load_spec
from autograder.assignments.softmax import ASSIGNMENT
from autograder.submissions.notebook import read_submission
from autograder.assignments.softmax.samples import build, write

SPEC = load_spec(ASSIGNMENT)


def read(tmp_path, nb):
    return read_submission(write(tmp_path, "s", nb), SPEC)


def test_clean_submission_gives_six_cells_and_no_flags(tmp_path):
    code = read(tmp_path, build())
    assert [name for name, _ in code.cells] == list(SPEC.solution_ids)
    assert code.tampered == {} and code.flags == set()


def test_edited_deleted_or_relabelled_test_cells_are_tampering(tmp_path):
    nb = build()
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    by_id["test_softmax"].source += "\nprint('ok')"
    by_id["test_cross_entropy_error"].metadata.nbgrader["points"] = 50
    nb.cells.remove(by_id["test_softmax_backward"])
    code = read(tmp_path, nb)
    assert set(code.tampered) == {"test_softmax", "test_cross_entropy_error",
                                  "test_softmax_backward"}
    assert "tampering" in code.flags


def test_copy_pasted_solution_cell_uses_the_last_one(tmp_path):
    nb = build()
    i = next(i for i, c in enumerate(nb.cells)
             if c.metadata.get("nbgrader", {}).get("grade_id") == "softmax")
    dup = nbformat.from_dict(nb.cells[i])
    dup.source = "def softmax(x):\n    return 'second'\n"
    nb.cells.insert(i + 1, dup)
    code = read(tmp_path, nb)
    assert "return 'second'" in dict(code.cells)["softmax"]
    assert code.flags == set()


def test_magics_become_harmless_python(tmp_path):
    nb = build()
    for c in nb.cells:
        if c.metadata.get("nbgrader", {}).get("grade_id") == "softmax":
            c.source = "%timeit 1 + 1\n" + c.source
    src = dict(read(tmp_path, nb).cells)["softmax"]
    compile(src, "<cell>", "exec")        # valid Python now


def test_missing_and_broken_notebooks(tmp_path):
    assert read_submission(None, SPEC).flags == {"missing_notebook"}
    bad = tmp_path / "bad.ipynb"
    bad.write_text("not json at all")
    code = read_submission(bad, SPEC)
    assert code.flags == {"invalid_notebook"} and "could not be read" in code.problem


def test_helpers_and_constants_from_other_cells_run_before_the_solutions(tmp_path):
    nb = build({"softmax": "def softmax(x):\n    e = np.exp(x - x.max(-1, keepdims=True))\n"
                           "    return _normalise(e) * ONE\n"})
    i = next(i for i, c in enumerate(nb.cells)
             if c.metadata.get("nbgrader", {}).get("grade_id") == "softmax")
    nb.cells.insert(i, nbformat.v4.new_code_cell(
        "def _normalise(e):\n    return e / e.sum(-1, keepdims=True)\n_normalise(np.ones(2))\n"))
    next(c for c in nb.cells if c.cell_type == "code").source += "\nONE = 1.0\n"
    code = read(tmp_path, nb)
    names = [name for name, _ in code.cells]
    assert names[-6:] == list(SPEC.solution_ids) and len(names) == 8
    assert code.unavailable == {} and code.flags == set()
    ns = {}
    import numpy as np
    ns["np"] = np
    for _, src in code.cells[:3]:
        exec(src, ns)
    assert np.allclose(ns["softmax"](np.zeros(2)), [0.5, 0.5])


def test_a_name_only_work_defines_is_explained():
    from autograder.model import Raised
    from autograder.submissions.notebook import explain
    why = {"W": "`W` is set in cell #4 by `W = train()`, a statement the grader does not run"}
    msg = "raised NameError: name 'W' is not defined (in cell softmax, line 2: return W)"
    missed = Raised("NameError", (NameError, Exception, BaseException), "W")
    assert explain(msg, missed, why).message.endswith(why["W"])
    assert explain(msg, missed, why).lacking == "W"
    # Decided by the typed facts, never by the words: the same words without them, or
    # facts naming another name, another class or no name, explain nothing.
    assert explain(msg, None, why).lacking is None
    assert explain(msg, Raised("NameError", (NameError, Exception, BaseException), "V"),
                   why).lacking is None
    assert explain(msg, Raised("KeyError", (KeyError, LookupError, Exception, BaseException),
                               "W"), why).lacking is None
    other = explain("raised NameError: name 'V' is not defined", None, why)
    assert other.message.endswith("defined") and other.lacking is None
    # An AttributeError's missing attribute of that name is not a missing global.
    assert explain("x", Raised("AttributeError", (AttributeError, Exception, BaseException),
                               "W", "NoneType"), why).lacking is None
    assert explain("", None, why).message == "" and explain("", None, why).lacking is None


def test_refused_submissions_read_no_byte(tmp_path, monkeypatch):
    from autograder.submissions import reader
    from autograder.submissions.discover import find
    (tmp_path / "eve").mkdir()
    (tmp_path / "eve" / "softmax.ipynb").symlink_to("/etc/passwd")
    (tmp_path / "mal").symlink_to("/etc")
    monkeypatch.setattr(reader.ReaderProcess, "parse", lambda *a: pytest.fail("parsed"))
    for sub in find(tmp_path, "softmax").submissions:
        code = read_submission(sub, SPEC, outline=True)
        assert code.flags == {"symlink"} and code.cells == [] and "root:" not in code.problem
        assert code.outline is None


def test_outline_is_small_and_refuses_what_reading_refuses(tmp_path):
    import json
    path = write(tmp_path, "s", build())
    nb = json.loads(path.read_text())
    nb["metadata"]["junk"] = [{"k": {}} for _ in range(200_000)]
    nb["cells"][0]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x" * 10**6}]
    path.write_text(json.dumps(nb))
    code = read_submission(path, SPEC, outline=True)
    outline = code.outline
    assert len(json.dumps(outline)) < len(path.read_text()) / 10
    assert [c["source"] for c in outline["cells"]] == [
        "".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in nb["cells"]]
    (tmp_path / "eve").mkdir()
    (tmp_path / "eve" / "softmax.ipynb").symlink_to(path)
    # The same read gave the code graded, and the same hash; asked for no outline, none.
    plain = read_submission(path, SPEC)
    assert code.cells == plain.cells and code.sha256 == plain.sha256 == sha256(path)
    assert plain.outline is None and code.cells
    assert read_submission(tmp_path / "eve" / "softmax.ipynb", SPEC, outline=True).outline is None
    assert read_submission(None, SPEC, outline=True).outline is None
    bad = tmp_path / "bad" / "softmax.ipynb"
    bad.parent.mkdir()
    bad.write_text('{"cells": [ not a notebook')
    assert read_submission(bad, SPEC, outline=True).outline is None


def sha256(path):
    import hashlib
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_read_outside_a_run_ends_its_own_reader_child(tmp_path, monkeypatch):
    """No module keeps reader children: a read with no run's pool starts one for itself
    and ends it; a run's pool keeps one per thread until the run closes it."""
    from autograder.assignment import load_spec
    from autograder.assignments.softmax.samples import build, write
    from autograder.submissions import notebook, reader
    made = []
    real = reader.ReaderProcess

    def recording(*a, **k):
        made.append(real(*a, **k))
        return made[-1]
    monkeypatch.setattr(reader, "ReaderProcess", recording)
    write(tmp_path, "ann", build())
    spec = load_spec(ASSIGNMENT)
    code = notebook.read_submission(tmp_path / "ann" / "softmax.ipynb", spec)
    assert code.cells and len(made) == 1 and made[0].proc is None
    pool = notebook.readers()
    for _ in range(2):
        notebook.read_submission(tmp_path / "ann" / "softmax.ipynb", spec, pool=pool)
    assert len(made) == 2 and made[1].proc is not None
    pool.close()
    assert made[1].proc is None

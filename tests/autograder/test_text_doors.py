"""The doors of student text (autograder/untrusted.py): what the jail and the notebook
reader send back is valid Unicode once decoded, whatever code points the student used."""
import json

from autograder.submissions.notebook import read_submission
from autograder.sandbox import Limits, WorkerProcess
from autograder.sandbox import modes

SURROGATES = "\udc80\ud800-\udfff"   # lone: no high one before a low one


def test_the_jails_reply_is_valid_text_after_decoding():
    source = f"import warnings\nwarnings.warn({SURROGATES!r})\nraise ValueError({SURROGATES!r})"
    with WorkerProcess(Limits(memory_mb=1024), sandbox=modes.UNSAFE) as w:
        reply = w.request({"op": "exec", "name": "bad", "source": source}, 30)
    assert reply["ok"] is False
    text = json.dumps(reply, ensure_ascii=False)
    text.encode("utf-8")
    assert "\ufffd" in reply["error"]


def _notebook(tmp_path):
    cells = [{"cell_type": "markdown", "metadata": {}, "source": f"# {SURROGATES}"},
             {"cell_type": "code", "metadata": {"nbgrader": {"grade_id": f"x{SURROGATES}"}},
              "execution_count": None, "outputs": [], "source": f"y = '{SURROGATES}'"}]
    nb = {"cells": cells, "nbformat": 4, "nbformat_minor": 4,
          "metadata": {"kernelspec": {"name": SURROGATES, "display_name": SURROGATES}}}
    path = tmp_path / "s" / "softmax.ipynb"
    path.parent.mkdir()
    path.write_text(json.dumps(nb))          # ASCII: the surrogates travel as \\udc80 escapes
    return path


def test_the_notebook_readers_reply_is_valid_text_after_decoding(tmp_path):
    from autograder.assignment import load_spec
    from autograder.assignments.softmax import ASSIGNMENT
    path = _notebook(tmp_path)
    code = read_submission(path, load_spec(ASSIGNMENT), outline=True)
    outline = code.outline
    json.dumps(outline, ensure_ascii=False).encode("utf-8")
    assert outline["cells"][0]["source"] == "# \ufffd\ufffd-\ufffd"
    json.dumps([code.cells, code.tampered, code.problem], ensure_ascii=False).encode("utf-8")

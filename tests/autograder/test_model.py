"""The vocabulary is declared once, in autograder/model.py, and reads and writes the
same bytes as the bare strings it replaced."""
import ast
import json
from pathlib import Path

import autograder
from autograder.model import (READING, UNAVAILABLE_NAME, CoreMistake, Flag, OutcomeKind,
                              SandboxMode, StudentResult, TestResult, Visibility)

PACKAGE = Path(autograder.__file__).resolve().parent
MODEL = PACKAGE / "model.py"
WORKER = PACKAGE / "sandbox" / "worker.py"


def _strings(path):
    return [n.value for n in ast.walk(ast.parse(path.read_text())) if
            isinstance(n, ast.Constant) and isinstance(n.value, str)]


def test_model_imports_nothing_from_the_project():
    tree = ast.parse(MODEL.read_text())
    imported = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    imported += [n.module or "" for n in ast.walk(tree)
                 if isinstance(n, ast.ImportFrom) and not n.level]
    relative = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level]
    assert not relative
    assert set(imported) <= {"__future__", "dataclasses", "enum", "typing"}, imported


# Words no other module has a reason to write out: each is spelled in model.py only.
# (timeout, memory and crash are also cgroup controllers, config keys and prose;
# "container" is also systemd's environment variable; the worker spells its wire kinds.)
DISTINCT = [Flag.INVALID_NOTEBOOK, Flag.MISSING_NOTEBOOK, Flag.OUTPUT_TRUNCATED,
            Flag.NO_SUBMISSION, Flag.TAMPERING, Flag.SYMLINK, Visibility.AFTER_DUE_DATE,
            Visibility.AFTER_PUBLISHED, SandboxMode.BUBBLEWRAP, OutcomeKind.FAULT,
            CoreMistake.NOT_IMPLEMENTED, CoreMistake.NOT_ARRAY, CoreMistake.MODIFIES_INPUT,
            UNAVAILABLE_NAME]


def test_each_distinct_word_of_the_vocabulary_is_written_in_model_only():
    where = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for s in _strings(path):
            if s in DISTINCT:
                where.setdefault(s, set()).add(str(path.relative_to(PACKAGE)))
    for word in DISTINCT:
        assert where.get(word) == {"model.py"}, (word, where.get(word))


def test_the_workers_wire_kinds_are_outcome_kinds():
    """worker.py runs in the jail alone (stdlib only): it spells the kinds it sends,
    and they must be the model's."""
    tree = ast.parse(WORKER.read_text())
    sent = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values):
                if isinstance(k, ast.Constant) and k.value == "kind" and \
                        isinstance(v, ast.Constant):
                    sent.add(v.value)
        if isinstance(node, ast.FunctionDef) and node.name == "_guarded":
            for r in ast.walk(node):
                if isinstance(r, ast.Return) and isinstance(r.value, ast.Tuple) and \
                        len(r.value.elts) == 5 and isinstance(r.value.elts[2], ast.Constant):
                    sent.add(r.value.elts[2].value)
    sent.discard(None)
    assert sent == {OutcomeKind.EXCEPTION, OutcomeKind.MEMORY, OutcomeKind.MISSING,
                    OutcomeKind.ASSERT}, sent


def test_enum_members_are_stored_as_the_strings_they_replace():
    typed = StudentResult("s", "sha", "g", tests=[TestResult("t", 0.0, 1.0, False)],
                          flags=[Flag.TIMEOUT, Flag.TAMPERING],
                          raised={Flag.TIMEOUT: "t", Flag.TAMPERING: READING})
    plain = StudentResult("s", "sha", "g", tests=[TestResult("t", 0.0, 1.0, False)],
                          flags=["timeout", "tampering"],
                          raised={"timeout": "t", "tampering": "reading"})
    dump = lambda r: json.dumps(r.to_dict(), indent=1, sort_keys=True)  # noqa: E731
    assert dump(typed) == dump(plain)
    assert ";".join(typed.flags) == "timeout;tampering"
    assert StudentResult.from_dict(json.loads(dump(typed))).flags == typed.flags


def test_visibilities_run_from_most_to_least_shown():
    assert [v.value for v in Visibility] == ["visible", "after_due_date", "after_published",
                                             "hidden"]

"""What a call raised travels as typed facts read off the exception object
(`worker.exception_facts`), never off its message, and reading them runs no student code.
"""
import numpy as np
import pytest

from autograder.model import Raised
from autograder.sandbox.worker import Harness, exception_facts
from autograder.student.interface import _result_ok, outcome_from_reply
from autograder.student.raised import raised_from_reply, raised_well_formed


def _call(source, fn="f", args=()):
    h = Harness()
    h.ns["np"] = np
    assert h.op_exec({"name": "cell", "source": source})["ok"]
    reply = h.op_call({"fn": fn, "calls": [list(args)]})["results"][0]
    assert _result_ok(reply)
    return outcome_from_reply(reply)


def test_a_missing_global_names_itself():
    out = _call("def f():\n    return W + 1\n")
    assert out.raised == Raised("NameError", (NameError, Exception, BaseException), "W", None)


def test_numpy_errors_are_their_builtin_classes():
    out = _call("def f():\n    return np.zeros(3)[5]\n")
    assert out.raised.builtin is IndexError and out.raised.type_name == "IndexError"
    # NumPy's AxisError is a ValueError first and an IndexError too: an axis, not an index.
    out = _call("def f():\n    return np.zeros(3).sum(axis=1)\n")
    assert out.raised.type_name == "AxisError" and out.raised.builtin is ValueError
    assert out.raised.is_a(IndexError)
    out = _call("def f():\n    return np.ones((2, 3)) + np.ones((3, 2))\n")
    assert out.raised.builtin is ValueError and out.raised.name is None


def test_an_attribute_looked_up_on_none_says_so():
    out = _call("def f():\n    y = None\n    return y.sum()\n")
    assert out.raised.is_a(AttributeError) and out.raised.on == "NoneType"
    assert out.raised.name == "sum"


def test_a_student_class_with_a_builtins_name_is_not_that_builtin():
    """Only Python's own classes count: a student's `NotImplementedError` is not one."""
    out = _call("class NotImplementedError(Exception):\n    pass\n"
                "def f():\n    raise NotImplementedError('done')\n")
    assert out.raised.type_name == "NotImplementedError"
    assert not out.raised.is_a(NotImplementedError)
    assert out.raised.bases == (Exception, BaseException)


def test_the_words_decide_nothing():
    """An exception whose message reads like another one is what it is."""
    out = _call("def f():\n    raise ValueError(\"NameError: name 'W' is not defined\")\n")
    assert out.raised.builtin is ValueError and out.raised.name is None


def test_reading_the_facts_runs_no_student_code():
    ran = []

    class Meta(type):
        @property
        def __name__(cls):
            ran.append("metaclass __name__")
            return "Forged"

    class Sly(NameError, metaclass=Meta):
        @property
        def name(self):
            ran.append("name")
            return "W"

        @property
        def __class__(self):
            ran.append("__class__")
            return KeyError

    facts = exception_facts(Sly("x"))
    assert ran == []
    assert facts["type"] == "Sly" and facts["builtins"][0] == "NameError"
    assert facts["name"] is None          # the real slot, never the property


def test_a_name_that_is_no_string_is_no_name():
    facts = exception_facts(NameError("x", name=123))
    assert facts["name"] is None
    assert raised_well_formed(facts)


@pytest.mark.parametrize("facts", [
    "NameError", {"type": "NameError"}, [1],
    {"type": "X", "builtins": ["NotAnException"], "name": None, "on": None},
    {"type": "X", "builtins": ["object"], "name": None, "on": None},
    {"type": "X", "builtins": "NameError", "name": None, "on": None},
    {"type": "X" * 101, "builtins": [], "name": None, "on": None},
    {"type": "X", "builtins": [], "name": 5, "on": None},
    {"type": "X", "builtins": [], "name": None, "on": "y" * 101},
    {"type": "X", "builtins": ["Exception"] * 17, "name": None, "on": None},
    {"type": "X", "builtins": [], "name": None, "on": None, "extra": 1},
])
def test_facts_the_harness_never_makes_are_refused(facts):
    """A reply comes from a process student code runs in: the facts are checked whole."""
    assert not raised_well_formed(facts)
    assert not _result_ok({"ok": False, "error": "x", "kind": "exception", "raised": facts})


def test_facts_the_harness_makes_are_accepted():
    for exc in (NameError("n", name="W"), AttributeError("a", name="y", obj=None),
                np.exceptions.AxisError(1, 1), MemoryError(), SystemExit(3)):
        facts = exception_facts(exc)
        assert raised_well_formed(facts)
        assert isinstance(raised_from_reply(facts), Raised)


def test_a_metaclass_hash_runs_no_code_and_forges_no_builtin():
    """A class's metaclass may define __hash__ and __eq__: looking the class up among the
    built-ins must neither run them nor let them pass the class off as IndexError."""
    ran = []

    class Meta(type):
        def __hash__(cls):
            ran.append("hash")
            return hash(IndexError)

        def __eq__(cls, other):
            ran.append("eq")
            return other is IndexError

    class Sly(Exception, metaclass=Meta):
        pass

    facts = exception_facts(Sly())
    assert ran == []
    assert facts["builtins"] == ["Exception", "BaseException"]


def test_an_exception_of_many_builtins_makes_a_well_formed_reply():
    many = (ValueError, TypeError, KeyError, IndexError, ZeroDivisionError, OverflowError,
            FloatingPointError, AssertionError, NotImplementedError, EOFError, BufferError,
            UserWarning, DeprecationWarning, RuntimeWarning, SyntaxWarning, FutureWarning)
    facts = exception_facts(type("Many", many, {})())
    assert raised_well_formed(facts) and facts["builtins"][0] == "ValueError"


@pytest.mark.parametrize("source", [
    "class E(Exception):\n    def __str__(self):\n        raise E()\n",
    "class E(Exception):\n    def __str__(self):\n        raise KeyboardInterrupt()\n",
    "class E(Exception):\n    def __str__(self):\n        return 5\n",
    "class S(str):\n    def splitlines(self):\n        raise SystemExit()\n"
    "class E(Exception):\n    def __str__(self):\n        return S('boom')\n",
])
def test_an_exception_whose_message_fails_is_described_and_the_harness_goes_on(source):
    out = _call(source + "def f():\n    raise E()\n")
    assert not out.ok and out.error.startswith("E") and out.raised.type_name == "E"
    assert out.raised.bases == (Exception, BaseException)


def test_an_exit_code_whose_text_fails_is_described():
    out = _call("class C:\n    def __str__(self):\n        raise SystemExit(C())\n"
                "def f():\n    raise SystemExit(C())\n")
    assert not out.ok and out.raised.builtin is SystemExit
    assert out.error == "SystemExit: the code called exit(?)"


@pytest.mark.parametrize("trap", [
    # A subclass's own __traceback__ (BaseException's is a descriptor a property overrides).
    "class E(Exception):\n    @property\n    def __traceback__(self):\n"
    "        ran.append('__traceback__')\n        return None\n",
    # linecache is the student's to change: the line is read from the harness's record.
    "import linecache\nclass Lines(list):\n    def __getitem__(self, i):\n"
    "        ran.append('__getitem__')\n        return 'forged'\n    def __len__(self):\n"
    "        ran.append('__len__')\n        return 99\n"
    "linecache.cache['<cell cell>'] = (0, None, Lines(), '<cell cell>')\n"
    "class E(Exception):\n    pass\n",
])
def test_describing_where_an_exception_was_raised_runs_no_student_code(trap):
    """The traceback is walked with the watch quiet: student code run there would be unwatched."""
    h = Harness()
    h.ns["np"] = np
    assert h.op_exec({"name": "cell", "source": "ran = []\n" + trap +
                      "def f():\n    raise E('x')\n"})["ok"]
    reply = h.op_call({"fn": "f", "calls": [[]]})["results"][0]
    assert h.ns["ran"] == []
    assert reply["error"] == f"E: x (in cell cell, line {trap.count(chr(10)) + 3}: raise E('x'))"


@pytest.mark.parametrize("source, value", [
    # A metaclass's __name__ that is no str, or raises: the type's own name is read.
    ("class M(type):\n    @property\n    def __name__(cls):\n        return 5\n"
     "class O(metaclass=M):\n    pass\ndef f():\n    return O()\n", {"__bad__": "O"}),
    ("class M(type):\n    @property\n    def __name__(cls):\n        raise KeyboardInterrupt\n"
     "class O(list, metaclass=M):\n    pass\ndef f():\n    return O([object()])\n",
     {"__bad__": "O that is not numeric (TypeError)"}),
    # An object's __class__ is its own to define; its class is what it is.
    ("class O:\n    @property\n    def __class__(self):\n        raise KeyboardInterrupt\n"
     "def f():\n    return O()\n", {"__bad__": "O"}),
])
def test_a_returned_object_that_lies_about_its_class_is_reported_by_its_class(source, value):
    h = Harness()
    h.ns["np"] = np
    assert h.op_exec({"name": "cell", "source": source})["ok"]
    reply = h.op_call({"fn": "f", "calls": [[]]})["results"][0]
    assert _result_ok(reply) and reply["value"] == value


def test_an_exit_code_behind_a_property_and_a_warning_of_a_str_subclass_are_read_safely():
    out = _call("class X(SystemExit):\n    @property\n    def code(self):\n"
                "        raise ValueError('x')\ndef f():\n    raise X(3)\n")
    assert out.error == "SystemExit: the code called exit(3)"
    h = Harness()
    assert h.op_exec({"name": "cell", "source":
                      "import warnings\nclass S(str):\n    def __getitem__(self, k):\n"
                      "        return 5\nclass W(UserWarning):\n    def __str__(self):\n"
                      "        return S('careful')\ndef f():\n    warnings.warn(W())\n"
                      "    return 1.0\n"})["ok"]
    reply = h.op_call({"fn": "f", "calls": [[]]})["results"][0]
    assert _result_ok(reply) and reply["warnings"] == ["careful"]


@pytest.mark.parametrize("end", [
    "class E(Exception):\n    pass\nE.__name__ = S('E')\ndef f():\n    raise E()\n",
    "class O:\n    pass\nO.__name__ = S('O')\ndef f():\n    return O()\n",
])
def test_a_class_name_of_a_str_subclass_runs_no_code(end):
    """type.__name__ can be set to a str subclass: its methods are the student's."""
    h = Harness()
    assert h.op_exec({"name": "cell", "source": "ran = []\nclass S(str):\n"
                      "    def __getitem__(self, k):\n        ran.append(k)\n"
                      "        raise KeyboardInterrupt\n" + end})["ok"]
    reply = h.op_call({"fn": "f", "calls": [[]]})["results"][0]
    assert _result_ok(reply) and h.ns["ran"] == []
    assert reply.get("raised", {}).get("type", "E") == "E"
    assert reply.get("value") in (None, {"__bad__": "O"})


def test_a_layer_method_behind_a_raising_property_is_the_students_error():
    h = Harness()
    assert h.op_exec({"name": "cell", "source": "class L:\n    @property\n"
                      "    def forward(self):\n        raise KeyboardInterrupt\n"})["ok"]
    result = h.op_layer({"cls": "L", "steps": [["forward", []]]})["results"][0]
    assert _result_ok(result) and not result["ok"]
    assert result["raised"]["type"] == "KeyboardInterrupt"
    assert result["error"].startswith("KeyboardInterrupt (in cell cell, line 4")

"""What a student's code raised, as the jailed worker's reply states it: the typed facts
(`sandbox/worker.exception_facts`) checked for shape and made a `Raised`.

The reply comes from a process student code runs in, so it is checked whole: a class
the reply names must be one of Python's built-in exception classes, every string is
short, and nothing else is accepted.
"""
import builtins

from autograder.model import Raised
from autograder.sandbox.worker import MAX_BUILTINS

# The built-in exception classes by name: the only classes a reply can name.
_BUILTIN_EXCEPTIONS = {n: c for n, c in vars(builtins).items()
                       if isinstance(c, type) and issubclass(c, BaseException)}
_FACTS = {"type", "builtins", "name", "on"}


def _short(v):
    return isinstance(v, str) and len(v) <= 100


def raised_well_formed(facts):
    """True for what the harness's `exception_facts` makes, or None."""
    if facts is None:
        return True
    return (isinstance(facts, dict) and set(facts) == _FACTS and _short(facts["type"])
            and isinstance(facts["builtins"], list) and len(facts["builtins"]) <= MAX_BUILTINS
            and all(isinstance(n, str) and n in _BUILTIN_EXCEPTIONS for n in facts["builtins"])
            and all(facts[k] is None or _short(facts[k]) for k in ("name", "on")))


def raised_from_reply(facts):
    """The Raised of a reply's well-formed "raised" facts (see `raised_well_formed`)."""
    if facts is None:
        return None
    return Raised(facts["type"], tuple(_BUILTIN_EXCEPTIONS[n] for n in facts["builtins"]),
                  facts["name"], facts["on"])

"""Blame bookkeeping: what each solution cell's code tried, and the student's flags."""
from autograder.model import Flag


class Blame:
    """Suspicious acts by solution cell, and the flags of the student's row."""

    def __init__(self):
        self.suspicious = {}    # solution id -> what its code tried
        self.flags = set()

    def flag(self, reason):
        self.flags.add(reason)

    def note(self, seen, name):
        """Blame the acts in `seen` not already known on the cell `name`.

        `seen` merges the reply's list and the worker's notes channel: code
        that clears one (through gc, say) still shows up in the other.
        """
        known = {x for acts in self.suspicious.values() for x in acts}
        new = [x for x in seen if x not in known]
        if new and name:
            self.suspicious.setdefault(name, []).extend(new)
            self.flag(Flag.TAMPERING)

    def acts(self, name):
        return self.suspicious.get(name, [])

"""PerThread: one object per thread, made on the thread's first use, all closed at once.

For the helper processes a grading thread keeps for itself (a reader child, a
reference timer): a thread never waits on another's, and whoever ends the run
closes every one made. After `close`, a thread's next `get` makes a fresh one.
"""
import threading


class PerThread:
    """`factory()` makes one object per thread (on its first `get`); each has a `close()`."""

    def __init__(self, factory):
        self._factory = factory
        self._local = threading.local()
        self._lock = threading.Lock()
        self._made = []

    def get(self):
        """This thread's object, made now if it has none."""
        obj = getattr(self._local, "obj", None)
        if obj is None:
            obj = self._factory()
            with self._lock:
                self._made.append(obj)
            self._local.obj = obj
        return obj

    def adopt(self, obj):
        """Make `obj` (made beforehand, as `factory` would) this thread's object, unless
        the thread has one: True if adopted (closed with the others), else False (the
        caller still owns it)."""
        with self._lock:
            if getattr(self._local, "obj", None) is not None:
                return False
            self._made.append(obj)
            self._local.obj = obj
        return True

    def close(self):
        """Close every object made so far (from any thread); later `get`s make new ones."""
        with self._lock:
            made, self._made = self._made, []
            self._local = threading.local()
        for obj in made:
            obj.close()

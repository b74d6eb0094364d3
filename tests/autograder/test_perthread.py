"""PerThread: one object per thread, the same one on each use, all closed at once."""
import threading

from autograder.perthread import PerThread


class Thing:
    def __init__(self):
        self.closed = 0

    def close(self):
        self.closed += 1


def test_one_object_per_thread_reused_within_it_and_all_closed_once():
    pool = PerThread(Thing)
    got = {}

    def use(i):
        got[i] = (pool.get(), pool.get())
    threads = [threading.Thread(target=use, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    firsts = [a for a, _ in got.values()]
    assert all(a is b for a, b in got.values())            # the same one each time
    assert len({id(a) for a in firsts}) == 3                # and one per thread
    mine = pool.get()
    assert mine not in firsts
    pool.close()
    assert [t.closed for t in firsts + [mine]] == [1, 1, 1, 1]
    pool.close()                                            # nothing is closed twice
    assert [t.closed for t in firsts + [mine]] == [1, 1, 1, 1]
    again = pool.get()
    assert again is not mine and again.closed == 0          # a fresh one after close


def test_an_object_made_beforehand_is_adopted_once_per_thread_and_closed_with_the_others():
    pool = PerThread(Thing)
    early, spare = Thing(), Thing()
    assert pool.adopt(early)
    assert pool.get() is early                              # used instead of a new one
    assert not pool.adopt(spare)                            # the thread has one: refused
    got = {}

    def other():
        got["other"] = pool.adopt(spare) and pool.get()
    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert got["other"] is spare                            # another thread may adopt one
    pool.close()
    assert (early.closed, spare.closed) == (1, 1)
    assert pool.get() is not early                          # after close: a fresh one

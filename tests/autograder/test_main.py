"""python -m autograder: leaving without the interpreter's teardown changes nothing that
shows: the exit status, the exit handlers, every byte written to stdout, a thread still
running, a closed stdout."""
import subprocess
import sys

RUN = ("import atexit, runpy, sys, threading, time\n"
       "{setup}\n"
       "sys.argv = ['autograder', 'grade', {missing!r}, '--out', {out!r}, '--unsafe-no-sandbox']\n"
       "runpy.run_module('autograder', run_name='__main__')\n")


def _run(tmp_path, setup="", **kw):
    code = RUN.format(setup=setup, missing=str(tmp_path / "missing"), out=str(tmp_path / "o"))
    return subprocess.run([sys.executable, "-c", code], **kw)


def test_the_exit_status_the_exit_handlers_and_all_of_stdout(tmp_path):
    setup = "atexit.register(lambda: print('x' * 200000 + ' handler ran'))"
    r = _run(tmp_path, setup, capture_output=True, text=True)
    assert r.returncode == 2                            # the usage error's status
    assert r.stderr.startswith("error: ") and r.stderr.count("\n") == 1
    assert r.stdout == "x" * 200000 + " handler ran\n"  # buffered, then flushed


def test_a_thread_still_running_is_waited_for(tmp_path):
    setup = ("threading.Thread(target=lambda: (time.sleep(0.3), print('thread done'))"
             ").start()")
    r = _run(tmp_path, setup, capture_output=True, text=True)
    assert r.returncode == 2 and r.stdout == "thread done\n"


def test_a_stdout_that_cannot_be_flushed_is_said_as_before(tmp_path):
    """The output cannot be written (a closed pipe): the ordinary exit's status 120 and
    its note, not a silent 2."""
    setup = ("class Closed:\n"
             "    def write(self, s): return len(s)\n"
             "    def flush(self): raise BrokenPipeError(32, 'Broken pipe')\n"
             "sys.stdout = Closed()")
    r = _run(tmp_path, setup, capture_output=True, text=True)
    assert r.returncode == 120 and "BrokenPipeError" in r.stderr


def test_collection_is_paused_while_the_grader_imports_and_resumed_to_grade(tmp_path):
    """No collection walks the objects the imports make; once they are done (frozen),
    the run collects as usual."""
    setup = ("import gc\n"
             "class Seen:\n"
             "    def find_spec(self, name, path=None, target=None):\n"
             "        if name == 'autograder.pipeline':\n"
             "            print('importing the pipeline, collecting:', gc.isenabled())\n"
             "sys.meta_path.insert(0, Seen())\n"
             "atexit.register(lambda: print('at exit, collecting:', gc.isenabled()))")
    r = _run(tmp_path, setup, capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stdout.splitlines() == ["importing the pipeline, collecting: False",
                                     "at exit, collecting: True"]

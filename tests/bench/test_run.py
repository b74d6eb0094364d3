"""bench/run.py: every timed run finds the grader's bytecode current."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMPILE = ("import sys; sys.path[:0] = [sys.argv[1], sys.argv[1] + '/bench']; "
           "import run; run.compile_grader(sys.argv[2])")


def test_the_grader_is_compiled_even_where_bytecode_is_not_written(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    module = package / "mod.py"
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    cached = Path(importlib.util.cache_from_source(str(module)))
    for source, mtime in (("X = 1\n", 1000), ("X = 22\n", 2000)):     # then changed
        module.write_text(source)
        os.utime(module, (mtime, mtime))
        subprocess.run([sys.executable, "-c", COMPILE, str(ROOT), str(package)], check=True,
                       env=env)
        header = cached.read_bytes()[8:16]      # what Python checks before using it
        assert header == mtime.to_bytes(4, "little") + len(source).to_bytes(4, "little")

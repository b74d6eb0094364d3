import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run_grader(*args, timeout=900):
    """`python -m autograder ...` as an instructor runs it: venv python, not activated."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV",)}
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p != venv_bin) or "/usr/bin:/bin"
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, cwd=REPO, env=env)


def read_grades(out):
    with open(Path(out) / "grades.csv", newline="") as f:
        return {row["student_id"]: row for row in csv.DictReader(f)}


@pytest.fixture
def grade(tmp_path):
    def _grade(subs, *extra):
        out = tmp_path / f"out-{Path(subs).name}"
        r = run_grader("grade", subs, "--out", out, "--no-progress", "--timeout", "8", *extra)
        assert r.returncode == 0, r.stderr[-3000:]
        return out, read_grades(out), r
    return _grade


# ---------------------------------------------------------------- as a normal user
# The grader dropped to an unprivileged uid (issue 8): a copy of the checkout
# owned by that uid (so nothing in it is root's), run with the same venv Python.
COPIED = ("autograder", "solutions", "assignments", "nbgrader_config.py", "pyproject.toml")
_copies = {}


def user_tmpdir(uid=65534):
    """A fresh folder under /tmp owned by `uid`, for its submissions and OUT."""
    import tempfile
    d = Path(tempfile.mkdtemp(prefix=f"as-uid{uid}-"))
    os.chown(d, uid, uid)
    return d


def repo_copy(uid=65534):
    """A copy of the grader's files owned by `uid` (made once per session)."""
    import shutil
    import tempfile
    if uid not in _copies:
        root = Path(tempfile.mkdtemp(prefix=f"repo-uid{uid}-"))
        for name in COPIED:
            src = REPO / name
            if src.is_dir():
                shutil.copytree(src, root / name, symlinks=True,
                                ignore=shutil.ignore_patterns("__pycache__"))
            elif src.exists():
                shutil.copy2(src, root / name)
        for p in [root, *root.rglob("*")]:
            os.lchown(p, uid, uid)
        _copies[uid] = root
    return _copies[uid]


def _reachable_venv():
    """Let other users traverse (not list) the folders above the venv, if they cannot."""
    p = Path(sys.prefix).resolve()
    for d in reversed([p, *p.parents]):
        mode = d.stat().st_mode
        if not mode & 0o001:
            os.chmod(d, mode | 0o001)


def python_for_user(uid=65534):
    """A Python with this venv's packages that `uid` can start.

    The venv's own when that uid can run it; else (its base interpreter sits
    in a folder closed to others, e.g. a pyenv under /root) a stand-in venv
    on the system's Python of the same version, sharing the venv's packages.
    """
    _reachable_venv()
    probe = ["setpriv", "--reuid", str(uid), "--regid", str(uid), "--clear-groups", "--",
             "/bin/sh", "-c", 'test -x "$0" && "$0" -c "import numpy"', sys.executable]
    if subprocess.run(probe, capture_output=True).returncode == 0:
        return sys.executable
    version = "python%d.%d" % sys.version_info[:2]
    base = Path("/usr/bin") / version
    if not base.exists():
        pytest.skip(f"uid {uid} cannot run {sys.executable} and there is no {base}")
    import site
    import tempfile
    shim = Path(tempfile.mkdtemp(prefix="venv-shim-"))
    os.chmod(shim, 0o755)
    (shim / "bin").mkdir()
    (shim / "bin" / "python").symlink_to(base)
    (shim / "lib" / version).mkdir(parents=True)
    (shim / "lib" / version / "site-packages").symlink_to(site.getsitepackages()[0])
    (shim / "pyvenv.cfg").write_text(f"home = {base.parent}\n"
                                     "include-system-site-packages = false\n")
    for p in [shim, *shim.rglob("*")]:
        if not p.is_symlink():
            os.chmod(p, 0o755)
    return str(shim / "bin" / "python")


def run_grader_as_user(*args, uid=65534, timeout=900):
    """`python -m autograder ...` as uid `uid` (root only), over `repo_copy(uid)`.

    Paths in `args` must be reachable by that uid: put them under
    `user_tmpdir(uid)`. Returns the CompletedProcess, like run_grader.
    """
    if os.geteuid() != 0:
        pytest.skip("dropping to another uid needs root")
    python = python_for_user(uid)
    home = user_tmpdir(uid)
    env = {"PATH": f"{Path(python).parent}:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}
    return subprocess.run(["setpriv", "--reuid", str(uid), "--regid", str(uid), "--clear-groups",
                           "--", python, "-m", "autograder", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout,
                          cwd=repo_copy(uid), env=env)

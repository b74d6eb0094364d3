"""What a student is given: `python -m autograder student-release --out DIR` (`make student-release`).

Writes DIR/<name>/ and DIR/<name>.zip (the same files) with exactly:
- the release notebook and the helper modules beside it (the nbgrader release
  folder, assignments/<name>/, as `nbgrader generate_assignment` made it: no
  solution, no hidden test);
- README.md, a short guide for the student;
- nbgrader_config.py, the course's student settings (`student-config/nbgrader_config.py`:
  Validate shows a check's whole message), read by the Validate button from the folder
  JupyterLab runs in;
- requirements.txt, the pins of the packages a student needs (`STUDENT_PACKAGES`,
  at the versions this grader is pinned to, so the checks behave as when graded).
Nothing from solutions/, the autograder package or the tests. The zip is
reproducible: sorted entries with a fixed date. A notebook already in DIR/<name>/
that differs from the release (a student's work) is never overwritten without
`force`.
"""
import importlib.metadata
import re
import shutil
import zipfile
from pathlib import Path

from autograder.assignment import get

# The distributions a student's JupyterLab needs: the notebook's imports (NumPy,
# Matplotlib, scikit-learn's digits, threadpoolctl), its kernel, the Validate button.
STUDENT_PACKAGES = ("numpy", "matplotlib", "scikit-learn", "threadpoolctl", "ipykernel",
                    "jupyterlab", "nbgrader")
SKIPPED = {"__pycache__", ".ipynb_checkpoints"}
ZIP_DATE = (1980, 1, 1, 0, 0, 0)

README = """# {name}: the assignment

This folder is everything you need: `{name}.ipynb` (the notebook you fill in) and the
helper modules it imports ({helpers}). Keep them together.

1. Install the pinned packages (Python 3.11 or newer), then start JupyterLab here:

       python -m venv .venv && .venv/bin/pip install -r requirements.txt
       .venv/bin/jupyter lab {name}.ipynb

   (Your course may give you a JupyterHub instead: then just open the notebook there.)
2. Work top to bottom. Replace each `raise NotImplementedError()` under
   `# YOUR CODE HERE` with your code, and keep each function in its own exercise cell.
3. Run the check cell after each exercise: it says what is wrong and what to try. The
   grader runs more (hidden) tests, so a passing check is a good sign, not a promise.
4. Before you submit: *Kernel > Restart Kernel and Run All Cells*, then **Validate**
   (the nbgrader button in the notebook's toolbar) and check that nothing fails.
5. Submit the single file `{name}.ipynb`. Do not edit or delete the check cells: a
   changed check cell earns no points.
"""


class ReleaseError(Exception):
    """The release cannot be written: one line saying why."""


def _pins():
    """{distribution name (normalised): 'name==version'} of this grader's own pins."""
    dist = importlib.metadata.packages_distributions().get("autograder", [None])[0]
    if dist is None:
        return {}       # not installed: requirements() names the pins it lacks
    pins = {}
    for req in importlib.metadata.requires(dist) or []:
        if ";" in req and "extra ==" in req:
            continue
        m = re.match(r"([A-Za-z0-9_.-]+)\s*==\s*([^\s;]+)", req)
        if m:
            pins[m.group(1).lower().replace("_", "-")] = f"{m.group(1)}=={m.group(2)}"
    return pins


def requirements():
    """requirements.txt for students: STUDENT_PACKAGES at this grader's pins."""
    pins = _pins()
    missing = [p for p in STUDENT_PACKAGES if p not in pins]
    if missing:
        raise ReleaseError(f"no pin for {', '.join(missing)} in the grader's dependencies")
    return "".join(f"{pins[p]}\n" for p in STUDENT_PACKAGES)


def release_files(assignment):
    """[(relative path, absolute path)] of the nbgrader release folder, sorted."""
    folder = Path(assignment.release).parent
    files = []
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if SKIPPED & set(rel.parts) or p.is_symlink() or not p.is_file():
            continue
        files.append((rel.as_posix(), p))
    return files


def student_settings(assignment):
    """The course's student nbgrader settings (<course>/student-config/nbgrader_config.py), or None."""
    path = Path(assignment.source).parents[2] / "student-config" / "nbgrader_config.py"
    return path if path.is_file() and not path.is_symlink() else None


def contents(assignment):
    """{relative path: bytes}: every file a student receives."""
    files = {rel: p.read_bytes() for rel, p in release_files(assignment)}
    helpers = ", ".join(f"`{r}`" for r in files if r.endswith(".py")) or "none"
    files["README.md"] = README.format(name=assignment.name, helpers=helpers).encode()
    settings = student_settings(assignment)
    if settings is not None:
        files["nbgrader_config.py"] = settings.read_bytes()
    files["requirements.txt"] = requirements().encode()
    return dict(sorted(files.items()))


def write(out, *, assignment=None, force=False):
    """DIR/<name>/ and DIR/<name>.zip; returns the folder. ReleaseError on refusal."""
    a = assignment or get()
    out = Path(out)
    folder = out / a.name
    files = contents(a)
    notebook = folder / f"{a.name}.ipynb"
    if not force and notebook.is_file() and notebook.read_bytes() != files[notebook.name]:
        raise ReleaseError(f"{notebook} differs from the release (a student's work?): move it "
                           "away, or pass --force to overwrite it")
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise ReleaseError(f"{folder} exists and is not a folder")
    if folder.exists():
        shutil.rmtree(folder)
    for rel, data in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)     # a fresh folder; readable as any handout
    zip_path = out / f"{a.name}.zip"
    tmp = zip_path.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for rel, data in files.items():
            info = zipfile.ZipInfo(f"{a.name}/{rel}", date_time=ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    tmp.replace(zip_path)
    return folder

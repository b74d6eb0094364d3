"""nbgrader configuration of the course: solutions/ is the source, assignments/ the release.

Paths are taken from this file's folder, so nbgrader finds the course from any
working directory that loads this file (and prints no "root is not absolute").
"""
import os

c = get_config()  # noqa: F821  (injected by traitlets)
ROOT = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.root = ROOT
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
# The course's own gradebook (nbgrader's commands run here); grading results live in
# OUT/gradebook.db instead. Its folder is made here so that no nbgrader command fails
# with "unable to open database file" in a fresh checkout.
try:
    os.makedirs(os.path.join(ROOT, ".nbgrader"), exist_ok=True)
except OSError:   # a read-only checkout: only the commands that need it will say so
    pass
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(ROOT, ".nbgrader", "gradebook.db")
# Helper modules travel with the notebook; grader-only files never do.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# A local exchange inside the course folder, for JupyterLab's Assignment List
# (fetch / submit / fetch feedback) on a single machine: `make exchange` creates it
# and releases the assignment there. A shared server points Exchange.root to a
# folder every user can write instead (nbgrader's docs: "Setting up nbgrader").
c.CourseDirectory.course_id = "softmax-workbook"
c.Exchange.root = os.path.join(ROOT, "exchange")

# What Validate shows (the width of its messages) is the students' setting: declared once,
# in student-config/, which a JupyterHub copies into the students' /etc/jupyter/.
load_subconfig(os.path.join(ROOT, "student-config", "nbgrader_config.py"))  # noqa: F821

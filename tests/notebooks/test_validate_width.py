"""Validate shows the check cells' whole messages with the students' configuration alone."""
import os
import shutil
from pathlib import Path

from nbgrader.server_extensions.validate_assignment.handlers import ValidateAssignmentHandler
from nbgrader.validator import Validator

REPO = Path(__file__).resolve().parents[2]


def validator_width(monkeypatch, cwd, config_dir):
    """The width the Validate button's handler would use (its own config loading)."""
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(config_dir))
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", "")
    monkeypatch.setenv("HOME", str(cwd))
    return Validator(config=ValidateAssignmentHandler.load_config(None)).width


def test_the_student_configuration_alone_widens_validate(monkeypatch, tmp_path):
    # As on a JupyterHub: only the student configuration, in a folder of its own.
    config = shutil.copytree(REPO / "student-config", tmp_path / "etc-jupyter")
    (tmp_path / "work").mkdir()
    assert validator_width(monkeypatch, tmp_path / "work", config) == 250
    empty = tmp_path / "empty"
    empty.mkdir()
    assert validator_width(monkeypatch, tmp_path / "work", empty) == 90   # nbgrader's default


def test_the_course_folder_says_the_same(monkeypatch, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert validator_width(monkeypatch, REPO, empty) == 250
    assert "Validator.width" not in (REPO / "nbgrader_config.py").read_text()
    assert os.path.exists(REPO / "student-config" / "nbgrader_config.py")

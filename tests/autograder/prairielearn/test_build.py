"""`make prairielearn`: the course fragment PrairieLearn syncs, and the grader image's folder."""
import json
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest

from autograder.gradescope.build import TEMPLATES as GS_TEMPLATES
from autograder.prairielearn import build as plbuild
from autograder.prairielearn.run import LIMITS, QUESTION_FILE

VENDOR = Path(__file__).resolve().parent / "vendor"
QUESTIONS = ("softmax", "softmax-jupyterlab")


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    return plbuild.build(tmp_path_factory.mktemp("pl") / "prairielearn",
                         image="course/softmax-grader")


def info(out, q):
    return json.loads((out / "questions" / q / "info.json").read_text())


@pytest.mark.parametrize("q", QUESTIONS)
def test_info_json_is_accepted_by_prairielearns_schema(out, q):
    schema = json.loads((VENDOR / "infoQuestion.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    assert sorted(e.message for e in validator.iter_errors(info(out, q))) == []


def test_the_schema_check_can_fail(out):
    schema = json.loads((VENDOR / "infoQuestion.json").read_text())
    bad = info(out, "softmax")
    bad["externalGradingOptions"]["network"] = False      # not a PrairieLearn option
    del bad["topic"]
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(bad))
    assert len(errors) == 2


@pytest.mark.parametrize("q", QUESTIONS)
def test_external_grading_with_no_network_and_a_timeout_under_the_default(out, q):
    i = info(out, q)
    opts = i["externalGradingOptions"]
    assert i["gradingMethod"] == "External"
    assert opts["enableNetworking"] is False and opts["image"] == "course/softmax-grader"
    assert opts["timeout"] == LIMITS.timeout_s <= 600      # PrairieLearn's maximum
    # Code that hangs gets the grader's timeout flag, not PrairieLearn's kill.
    assert LIMITS.worst_case_s() < LIMITS.timeout_s
    # The entrypoint named in info.json is where the Containerfile puts it.
    containerfile = (out / "grader-image" / "Containerfile").read_text()
    assert f"COPY entrypoint {opts['entrypoint']}" in containerfile
    assert (out / "grader-image" / "entrypoint").stat().st_mode & 0o111


def test_the_workspace_variant_grades_the_notebook_from_jupyterlab(out):
    ws = info(out, "softmax-jupyterlab")["workspaceOptions"]
    assert ws["gradedFiles"] == ["softmax.ipynb"] and "jupyterlab" in ws["image"]
    assert (out / "questions" / "softmax-jupyterlab" / "workspace" / "softmax.ipynb").exists()
    assert info(out, "softmax")["uuid"] != info(out, "softmax-jupyterlab")["uuid"]
    assert "workspaceOptions" not in info(out, "softmax")


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


@pytest.mark.parametrize("q", QUESTIONS)
def test_question_html_uses_only_documented_elements_and_attributes(out, q):
    documented = json.loads((VENDOR / "elements.json").read_text())
    parser = _Elements()
    parser.feed((out / "questions" / q / "question.html").read_text())
    pl = [(tag, attrs) for tag, attrs in parser.found if tag.startswith("pl-")]
    for tag, attrs in pl:
        assert tag in documented, tag
        assert set(attrs) <= set(documented[tag]), (tag, attrs)
    tags = [tag for tag, _ in pl]
    assert "pl-external-grader-results" in tags
    if q == "softmax":
        upload = dict(pl)["pl-file-upload"]
        assert upload == {"file-names": "softmax.ipynb"}
        for tag, attrs in pl:
            if tag == "pl-file-download":
                assert (out / "questions" / q / "clientFilesQuestion" / attrs["file-name"]).exists()
    else:
        assert "pl-workspace" in tags and "pl-file-preview" in tags


def test_the_image_holds_no_assignment_and_the_question_tests_hold_it(out):
    from autograder.assignments.softmax import ASSIGNMENT
    secret = {p.read_bytes() for p in ASSIGNMENT.package_dir.rglob("*.py") if p.stat().st_size}
    image = out / "grader-image"
    for p in image.rglob("*"):
        if p.is_file():
            assert p.suffix != ".ipynb" and p.read_bytes() not in secret, p
    assert not (image / "source" / "autograder" / "assignments" / "softmax").exists()
    assert (image / "source" / "autograder" / "assignments" / "__init__.py").exists()
    tests = out / "questions" / "softmax" / "tests"
    assert json.loads((tests / QUESTION_FILE).read_text()) == {"assignment": "softmax"}
    grader = tests / "grader"
    assert (grader / "autograder" / "assignments" / "softmax" / "checks.py").exists()
    assert b"BEGIN HIDDEN TESTS" in (grader / "solutions" / "softmax" / "softmax.ipynb").read_bytes()
    assert (grader / "gradescope.toml").exists()
    # Nothing hidden is where students can fetch it.
    for q in QUESTIONS:
        for folder in ("clientFilesQuestion", "workspace"):
            for p in (out / "questions" / q / folder).rglob("*") if \
                    (out / "questions" / q / folder).exists() else ():
                if p.is_file():
                    assert b"BEGIN HIDDEN TESTS" not in p.read_bytes(), p


def test_the_install_step_is_gradescopes_setup_sh(out):
    source = out / "grader-image" / "source"
    assert (source / "setup.sh").read_bytes() == (GS_TEMPLATES / "setup.sh").read_bytes()
    containerfile = (out / "grader-image" / "Containerfile").read_text()
    # The first RUN instruction (joined over its continuation lines) runs setup.sh.
    first_run = containerfile.replace("\\\n", " ").split("\nRUN ")[1].splitlines()[0]
    assert first_run.endswith("bash /grader/source/setup.sh"), first_run
    for name in ("requirements.txt", "constraints.txt", "pip.txt"):
        assert (source / name).exists()


def test_the_same_inputs_give_the_same_files(out, tmp_path):
    again = plbuild.build(tmp_path / "again", image="course/softmax-grader")
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    for rel in files:
        assert (out / rel).read_bytes() == (again / rel).read_bytes(), rel


def test_cli_builds_the_fragment_and_says_where(tmp_path, capsys):
    from autograder.cli import main
    assert main(["prairielearn", "build", "--out", str(tmp_path / "pl")]) == 0
    out = capsys.readouterr().out
    assert "questions/" in out and "grader-image/" in out and plbuild.DEFAULT_IMAGE in out
    i = json.loads((tmp_path / "pl" / "questions" / "softmax" / "info.json").read_text())
    assert i["externalGradingOptions"]["image"] == plbuild.DEFAULT_IMAGE


def test_cli_an_unknown_assignment_is_one_line(tmp_path, capsys):
    from autograder.cli import main
    assert main(["prairielearn", "build", "--out", str(tmp_path / "pl"),
                 "--assignment", "nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "nope" in err[0]

# make demo | make test | make release | make bench | make exchange | make student-release | make student-lab | make gradescope | make prairielearn
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test release bench gradescope prairielearn clean exchange student-lab student-release mutants

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "error: $(PYTHON) is not Python 3.11 or newer (the pinned packages need it); run make PYTHON=python3.11 ..." >&2; exit 2; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	@# setuptools' editable build prints an "InformationOnly" UserWarning box: not ours to act on.
	PYTHONWARNINGS=ignore::UserWarning $(PY) -m pip install -q -e '.[dev]'
	@# An editable install leaves the checkout's modules uncompiled, and with
	@# PYTHONDONTWRITEBYTECODE set each run compiles them again (~50 ms CPU of a
	@# one-student run): compile once, as pip does for an installed package.
	@# A module edited later is compiled from source again, never run stale.
	$(PY) -m compileall -q autograder
	@touch $@

## Regenerate the student release (assignments/) from solutions/.
release: $(STAMP)
	PATH="$(abspath $(VENV))/bin:$$PATH" $(PY) -m autograder release

## A local nbgrader exchange in the course folder (exchange/), with the release in it:
## JupyterLab's Assignment List can then fetch, submit and fetch feedback on this machine.
exchange: $(STAMP)
	mkdir -p exchange && chmod 0777 exchange   # nbgrader's exchange must be writable by all students
	PATH="$(abspath $(VENV))/bin:$$PATH" $(VENV)/bin/nbgrader release_assignment softmax --force --log-level=WARN

## What a student is given: $(STUDENT_DIR)/softmax/ (the release notebook, its helper
## modules, a README, requirements.txt) and $(STUDENT_DIR)/softmax.zip. Never overwrites a
## notebook a student changed there (python -m autograder student-release --force does).
STUDENT_DIR ?= student-release
student-release: $(STAMP)
	$(PY) -m autograder student-release --out $(STUDENT_DIR)

## JupyterLab as a student sees it: serves only $(STUDENT_DIR)/softmax/ (made on first use,
## then kept: it holds the student's work), with student-config/ (no formgrader or
## create-assignment). As root it adds --allow-root; `make student-lab LAB_ARGS="--port=9999
## --no-browser"` passes JupyterLab options.
LAB_ARGS ?=
student-lab: $(STAMP)
	@test -d $(STUDENT_DIR)/softmax || $(PY) -m autograder student-release --out $(STUDENT_DIR)
	@# A copy of the student configuration: JupyterLab writes its workspaces into it.
	rm -rf $(STUDENT_DIR)/.jupyter-config && cp -R student-config $(STUDENT_DIR)/.jupyter-config
	cd $(STUDENT_DIR)/softmax && JUPYTER_CONFIG_DIR="$(abspath $(STUDENT_DIR))/.jupyter-config" \
	  PATH="$(abspath $(VENV))/bin:$$PATH" "$(abspath $(VENV))/bin/jupyter" lab \
	  --ServerApp.root_dir=. $$([ "$$(id -u)" = 0 ] && echo --allow-root) $(LAB_ARGS)

## Grade the bundled sample submissions and print the table.
demo: $(STAMP)
	PATH="$(abspath $(VENV))/bin:$$PATH" $(PY) -m autograder demo --out demo-out

## The whole suite: unit, notebooks (nbval), end-to-end grading; two pytest workers, a
## test file each (`make test PYTEST_ARGS=` runs it in one process).
PYTEST_ARGS ?= -n 2 --dist loadfile
test: $(STAMP)
	PATH="$(abspath $(VENV))/bin:$$PATH" $(PY) -m pytest $(PYTEST_ARGS)

## Benchmarks (about 15 minutes on a quiet 2-core machine): writes bench/REPORT.json,
## bench/REPORT.md and the README's benchmark figures, ours against the peers
## (Otter-Grader, plain nbgrader) on the same submissions. The peers live in a
## benchmark-only environment, bench/.venv-peers (bench/requirements-peers.txt, plus this
## project's dependencies for their kernels). A quick look: `make bench
## BENCH_SECTIONS="latency batch" BENCH_ROUNDS=1 BENCH_BATCH=4`; the other knobs are in
## bench/run.py. `make bench BENCH_TORCH=1` also installs PyTorch (CPU) for the kernel row.
PEERS       := bench/.venv-peers
PEERS_STAMP := $(PEERS)/.installed-stamp
$(PEERS_STAMP): bench/requirements-peers.txt pyproject.toml
	@test -x $(PEERS)/bin/python || $(PYTHON) -m venv $(PEERS)
	PYTHONWARNINGS=ignore::UserWarning $(PEERS)/bin/python -m pip install -q -r bench/requirements-peers.txt -e .
	@touch $@

bench: $(STAMP) $(PEERS_STAMP)
	@if [ -n "$(BENCH_TORCH)" ]; then $(PY) -m pip install -q -e '.[bench]' || echo "torch not installed: the PyTorch row is skipped"; fi
	PATH="$(abspath $(VENV))/bin:$$PATH" $(PY) bench/run.py $(BENCH_SECTIONS)

## Mutation testing of the hidden checks: prints the mutation score, the hint
## accuracy and every survivor (dev/mutants.py).
mutants: $(STAMP)
	$(PY) -m dev.mutants

## Gradescope: autograder.zip (setup.sh, run_autograder, the grader and its pins).
## Visibility of each test and a cap on graded submissions: gradescope.toml.
gradescope: $(STAMP)
	$(PY) -m autograder gradescope build --out autograder.zip

## PrairieLearn: prairielearn/questions/ (the course fragment) and prairielearn/grader-image/
## (Containerfile). PL_IMAGE: the image's Docker Hub name; WHEELS=1: bundle every wheel.
## Visibility: gradescope.toml, shared with Gradescope (README: Grading on PrairieLearn).
prairielearn: $(STAMP)
	$(PY) -m autograder prairielearn build --out prairielearn $(if $(PL_IMAGE),--image $(PL_IMAGE)) $(if $(WHEELS),--wheels)

clean:
	rm -rf $(VENV) $(PEERS) demo-out .nbgrader autograder.zip prairielearn

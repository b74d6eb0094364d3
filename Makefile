# make demo | make test | make release | make bench | make gradescope
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test release bench gradescope clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

## Regenerate the student release (assignments/) from solutions/.
release: $(STAMP)
	PATH="$(abspath $(VENV))/bin:$$PATH" $(PY) -m autograder release

## Grade the bundled sample submissions and print the table.
demo: $(STAMP)
	PATH="$(abspath $(VENV))/bin:$$PATH" $(PY) -m autograder demo --out demo-out

## The whole suite: unit, notebooks (nbval), end-to-end grading.
test: $(STAMP)
	PATH="$(abspath $(VENV))/bin:$$PATH" $(PY) -m pytest

## Benchmarks: writes bench/REPORT.md. `make bench BENCH_TORCH=1` also installs
## PyTorch (CPU) for the kernel comparison; without it that row says "not measured".
bench: $(STAMP)
	@if [ -n "$(BENCH_TORCH)" ]; then $(PY) -m pip install -q -e '.[bench]' || echo "torch not installed: the PyTorch row is skipped"; fi
	PATH="$(abspath $(VENV))/bin:$$PATH" $(PY) bench/run.py

## Gradescope: autograder.zip (setup.sh, run_autograder, the grader and its pins).
## Visibility of each test and a cap on graded submissions: gradescope.toml.
gradescope: $(STAMP)
	$(PY) -m autograder gradescope build --out autograder.zip

clean:
	rm -rf $(VENV) demo-out .nbgrader autograder.zip

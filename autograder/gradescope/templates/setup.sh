#!/usr/bin/env bash
# The one install script of both grader images. Gradescope runs it once, as root,
# while it builds the autograder image (Ubuntu 22.04); the PrairieLearn image's
# Containerfile runs it the same way (`make prairielearn`). It makes ROOT/venv: a
# plain pip virtual environment with the pins of requirements.txt (the project's
# own) and constraints.txt (everything they pull in, as installed where the zip was
# built). No conda, nothing else.
#
# ROOT is the folder above this script's (Gradescope unpacks the zip into
# /autograder/source; the PrairieLearn image has /grader/source); AUTOGRADER_ROOT
# overrides it, for tests. AUTOGRADER_WHEELS: a folder of wheels; when it holds any,
# pip installs from it alone (no package index), for builds without network.
set -euo pipefail
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="${AUTOGRADER_ROOT:-$(dirname "$SOURCE")}"
VENV="$ROOT/venv"
PIP_FLAGS=(--quiet --no-input --disable-pip-version-check)
WHEELS="${AUTOGRADER_WHEELS:-}"
if [ -n "$WHEELS" ] && compgen -G "$WHEELS/*.whl" >/dev/null; then
  PIP_FLAGS+=(--no-index --find-links "$WHEELS")
  echo "setup.sh: installing from the wheels in $WHEELS (no package index)"
fi

# A Python >= 3.11 (the pins need it). Ubuntu 22.04's python3 is 3.10; its python3.11
# package is not. Debian-family Pythons need their -venv package for `python -m venv`.
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "$@" >/dev/null
}
recent() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }
PY=""
for c in python3 python3.13 python3.12 python3.11; do
  if command -v "$c" >/dev/null && recent "$c"; then PY=$c; break; fi
done
if [ -z "$PY" ]; then
  echo "setup.sh: no Python >= 3.11 here; installing python3.11 from the distribution"
  apt_install python3.11 python3.11-venv
  PY=python3.11
fi
echo "setup.sh: $("$PY" -V) -> $VENV"

rm -rf "$VENV"
if ! "$PY" -m venv "$VENV" 2>/dev/null; then
  rm -rf "$VENV"
  apt_install "$(basename "$PY")-venv" || apt_install python3-venv
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install "${PIP_FLAGS[@]}" -r "$SOURCE/pip.txt"
"$VENV/bin/python" -m pip install "${PIP_FLAGS[@]}" --prefer-binary \
    -r "$SOURCE/requirements.txt" -c "$SOURCE/constraints.txt"

# Byte-compile the grader once here: every submission starts a fresh container.
"$VENV/bin/python" -m compileall -q "$SOURCE/autograder" >/dev/null
# The image's folders a student uid could write to, for container mode's end-of-run
# sweep (listed once here rather than walked at every submission).
(cd "$SOURCE" && "$VENV/bin/python" -m autograder.sandbox.sweep "$SOURCE/writable-folders.json")

# Student code must not read the grader: its hidden checks, reference code and the
# solutions live in SOURCE, readable by root only. The venv stays readable by all
# (the sandboxed worker imports numpy from it); it holds no part of the grader.
chmod -R go-rwx "$SOURCE"
chmod 755 "$ROOT"
# Fail the image build now, not at the first submission, if the grader cannot start.
cd "$SOURCE" && "$VENV/bin/python" -c \
    "import autograder.gradescope.run, autograder.prairielearn.run, numpy, nbformat"
echo "setup.sh: done"

#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image: it installs
# bubblewrap and the grader, keeps the data and the assignment where only root can read them,
# and measures the reference on this image so that no student's grade waits for it.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${GRADER_PYTHON:-python3}"
SOURCE="$ROOT/source"

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    missing=()
    command -v bwrap >/dev/null || missing+=(bubblewrap)
    command -v uv >/dev/null || "$PYTHON" -c "import ensurepip" 2>/dev/null || missing+=(python3-venv)
    if [ ${#missing[@]} -gt 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    fi
fi

# Python and a virtual environment every user can read: without bubblewrap the student's code runs
# as a user with no account, which must still be able to start Python.
umask 022

# The grader needs Python 3.11 or newer, and Gradescope's images ship an older python3 (3.8 on
# Ubuntu 20.04, 3.10 on 22.04). Then uv, installed with that python3 where the image has none,
# brings a standalone CPython 3.11 into the autograder's root, where every user can read it.
# Only this build needs the network; grading does not.
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "setup.sh: $("$PYTHON" --version 2>&1 || echo "$PYTHON: not found") is older than the 3.11 the grader needs; installing CPython 3.11 with uv"
    if ! command -v uv >/dev/null; then
        "$PYTHON" -m venv "$ROOT/uv"
        "$ROOT/uv/bin/pip" install --quiet --disable-pip-version-check uv
        PATH="$ROOT/uv/bin:$PATH"
    fi
    export UV_PYTHON_INSTALL_DIR="$ROOT/python"
    uv python install --quiet --no-bin 3.11
    PYTHON="$(uv python find --python-preference only-managed 3.11)"
fi

# The grader with the assignment's Keras backend (tensorflow, jax or torch) as its extra.
PROJECT="$SOURCE/project[$(cat "$SOURCE/backend")]"
if command -v uv >/dev/null; then
    uv venv --quiet --python "$PYTHON" "$ROOT/venv"
    UV_COMPILE_BYTECODE=1 uv pip install --quiet --python "$ROOT/venv/bin/python" "$PROJECT"
else
    "$PYTHON" -m venv "$ROOT/venv"
    "$ROOT/venv/bin/pip" install --quiet "$PROJECT"
fi

chmod -R go-rwx "$SOURCE"  # the test labels and the assignment are the grader's alone
chmod 755 "$ROOT"
GRADER_CACHE_DIR="$SOURCE/cache" "$ROOT/venv/bin/grader" calibrate "$SOURCE/assignment.toml" \
    --data-dir "$SOURCE/data"

#!/usr/bin/env bash
# Creates .venv with a Python 3.10 and the pinned dependencies (requirements.lock).
# Idempotent: does nothing when .venv is up to date with the lock file.
set -euo pipefail
cd "$(dirname "$0")/.."

stamp=.venv/.installed
if [ -f "$stamp" ] && [ "$stamp" -nt requirements.lock ]; then
  exit 0
fi

python=$(scripts/find_python.sh)
echo "Using $python ($("$python" --version))"
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade "pip<25"
.venv/bin/python -m pip install --quiet --no-deps -r requirements.lock
.venv/bin/python -m pip check
touch "$stamp"
echo "Python environment ready in .venv"

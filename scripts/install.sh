#!/usr/bin/env bash
# Creates .venv with a Python 3.10, the pinned dependencies (requirements.lock) and the project
# itself, installed editable (`pip install -e .`): `import clinic` finds this folder's code from
# anywhere, so nothing needs PYTHONPATH. Idempotent: the lock is installed again only when it changed.
set -euo pipefail
cd "$(dirname "$0")/.."

stamp=.venv/.installed
if [ ! -x .venv/bin/python ]; then
  python=$(scripts/find_python.sh)
  echo "Using $python ($("$python" --version))"
  "$python" -m venv .venv
fi
if [ ! -f "$stamp" ] || [ requirements.lock -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade "pip<25"
  .venv/bin/python -m pip install --quiet --no-deps -r requirements.lock
  .venv/bin/python -m pip check
fi
# The project (pyproject.toml), after the lock: --no-deps and the lock's setuptools, nothing downloaded.
.venv/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
touch "$stamp"
echo "Python environment ready in .venv"

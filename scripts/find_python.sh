#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter (Rasa 3.6 runs on 3.8-3.10 only).
# Tries python3.10 on PATH, then pyenv's installs, then python3; fails loudly otherwise.
set -u

is_supported() {
  "$1" -c 'import sys; sys.exit(0 if (3, 8) <= sys.version_info[:2] <= (3, 10) else 1)' >/dev/null 2>&1
}

candidates=(python3.10)
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root)
  for p in "$root"/versions/3.10.*/bin/python; do candidates+=("$p"); done
fi
for p in "$HOME"/.pyenv/versions/3.10.*/bin/python /usr/bin/python3.10 /usr/local/bin/python3.10 python3; do
  candidates+=("$p")
done

for candidate in "${candidates[@]}"; do
  if is_supported "$candidate"; then
    command -v "$candidate" 2>/dev/null || echo "$candidate"
    exit 0
  fi
done

echo "No Python 3.10 found. Rasa 3.6 needs Python 3.8-3.10." >&2
echo "Install one (for example 'pyenv install 3.10.13') and run make again." >&2
exit 1

#!/usr/bin/env bash
# Prints the path of the Python interpreter for one of the project's two environments
# (docs/python-versions.md):
#   scripts/find_python.sh [rasa]   Python 3.10 for .venv: Rasa 3.6 runs on Python 3.8-3.10 only
#   scripts/find_python.sh app      Python 3.13, 3.12 or 3.11 (the newest found) for .venv-app: the
#                                   inbox, the notification worker, the privacy job, supervisord,
#                                   the widget's demo server and the content tools
# Tries the versioned names on PATH, then pyenv's installs, then python3; fails loudly otherwise.
set -u

kind=${1:-rasa}
case "$kind" in
  rasa) versions=(3.10) lowest=3.8 highest=3.10 needs="Rasa 3.6 needs Python 3.8-3.10" ;;
  app) versions=(3.13 3.12 3.11) lowest=3.11 highest=3.13
       needs=".venv-app (inbox, notification worker, privacy job, supervisord, content tools) needs Python 3.11-3.13" ;;
  *) echo "usage: $0 [rasa|app]" >&2; exit 2 ;;
esac

is_supported() {
  "$1" -c "import sys; sys.exit(0 if (${lowest/./,}) <= sys.version_info[:2] <= (${highest/./,}) else 1)" \
    >/dev/null 2>&1
}

candidates=()
roots=("$HOME/.pyenv")
if command -v pyenv >/dev/null 2>&1; then roots=("$(pyenv root)" "${roots[@]}"); fi
for version in "${versions[@]}"; do  # newest first
  candidates+=("python$version")
  for root in "${roots[@]}"; do
    for p in "$root"/versions/"$version".*/bin/python; do candidates+=("$p"); done
  done
  candidates+=("/usr/bin/python$version" "/usr/local/bin/python$version")
done
candidates+=(python3)

for candidate in "${candidates[@]}"; do
  if is_supported "$candidate"; then
    command -v "$candidate" 2>/dev/null || echo "$candidate"
    exit 0
  fi
done

echo "No Python $(IFS=/; echo "${versions[*]}") found (looked on PATH and in pyenv's versions/). $needs." >&2
echo "Install one (for example 'pyenv install ${versions[0]}') and run make install again." >&2
exit 1

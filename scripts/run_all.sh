#!/usr/bin/env bash
# Starts everything on embedded defaults (SQLite) and stops it all on Ctrl-C:
#   Rasa (REST + socket.io)   http://localhost:5005
#   action server             http://localhost:5055
#   widget demo page          http://localhost:8000   (when widget/ is built)
#   coordinators' inbox       http://localhost:8001
#   notification worker       (delivers the outbox: email / webhook)
#   privacy job               (redacts contact details in stored conversations, purges old ones)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export PYTHONPATH="$PWD" RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1
export CLINIC_ENV="${CLINIC_ENV:-development}"
ORIGINS="${CLINIC_ALLOWED_ORIGINS:-http://localhost:8000 http://127.0.0.1:8000}"
export CLINIC_ALLOWED_ORIGINS="$ORIGINS"  # the same list for REST (--cors) and socket.io
mkdir -p var logs

ENDPOINTS=endpoints.yml
if [ "${1:-}" = "--scaled" ]; then
  # PostgreSQL tracker store + Redis lock store (endpoints.scaled.yml); handoffs in PostgreSQL too.
  export ACTION_SERVER_URL="${ACTION_SERVER_URL:-http://localhost:5055/webhook}"
  export TRACKER_DB_HOST="${TRACKER_DB_HOST:-127.0.0.1}" TRACKER_DB_PORT="${TRACKER_DB_PORT:-5432}"
  export TRACKER_DB_NAME="${TRACKER_DB_NAME:-clinic_rasa}" TRACKER_DB_USER="${TRACKER_DB_USER:-postgres}"
  export TRACKER_DB_PASSWORD="${TRACKER_DB_PASSWORD:-}"
  export REDIS_HOST="${REDIS_HOST:-127.0.0.1}" REDIS_PORT="${REDIS_PORT:-6379}" REDIS_DB="${REDIS_DB:-1}"
  export HANDOFF_DATABASE_URL="${HANDOFF_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/clinic_handoffs}"
  export TRACKER_DATABASE_URL="${TRACKER_DATABASE_URL:-postgresql://$TRACKER_DB_USER@$TRACKER_DB_HOST:$TRACKER_DB_PORT/$TRACKER_DB_NAME}"
  for db in "$TRACKER_DB_NAME" clinic_handoffs; do
    psql -h "$TRACKER_DB_HOST" -U "$TRACKER_DB_USER" -d postgres -tc "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1 \
      || psql -h "$TRACKER_DB_HOST" -U "$TRACKER_DB_USER" -d postgres -c "CREATE DATABASE $db" >/dev/null
  done
  ENDPOINTS=endpoints.scaled.yml
  echo "Scaled set-up: PostgreSQL tracker store, Redis lock store"
fi

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

start() {  # name, command...
  local name=$1; shift
  "$@" > "logs/$name.log" 2>&1 &
  pids+=($!)
  echo "started $name (log: logs/$name.log)"
}

start actions .venv/bin/rasa run actions --port 5055 --actions actions
# Rasa's HTTP API (used by `make publish` to swap in a new model) is protected by a token. In
# development a random one is kept in var/rasa-api-token, which `make publish` reads too.
if [ -z "${RASA_API_TOKEN:-}" ] && [ "$CLINIC_ENV" = development ]; then
  [ -s var/rasa-api-token ] || (umask 077; $PY -c "import secrets; print(secrets.token_urlsafe(32))" > var/rasa-api-token)
  RASA_API_TOKEN=$(cat var/rasa-api-token)
fi
api_args=()
if [ -n "${RASA_API_TOKEN:-}" ]; then api_args=(--enable-api --auth-token "$RASA_API_TOKEN"); fi
# shellcheck disable=SC2086
start rasa .venv/bin/rasa run --model models/clinic.tar.gz --port 5005 --endpoints "$ENDPOINTS" \
  --credentials credentials.yml --cors $ORIGINS "${api_args[@]}"
[ -f widget/serve.py ] && start widget $PY widget/serve.py --port 8000
[ -d handoff/inbox ] && start inbox $PY -m handoff.inbox --port 8001
[ -f handoff/cli.py ] && start worker $PY -m handoff.cli worker
start privacy $PY -m clinic_privacy.cli loop

echo "Waiting for Rasa to load the model..."
for _ in $(seq 1 120); do
  if curl -fs http://localhost:5005/ >/dev/null 2>&1; then break; fi
  sleep 1
done
cat <<MSG

The clinic assistant is running:
  Chat demo page:      http://localhost:8000
  Coordinators' inbox: http://localhost:8001   (create an account: make coordinator)
  Rasa REST webhook:   http://localhost:5005/webhooks/rest/webhook
Press Ctrl-C to stop everything.
MSG
wait

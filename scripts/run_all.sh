#!/usr/bin/env bash
# `make run` / `make run-scaled`: every service under supervisord (clinic/stack/supervise.py), which
# restarts any that crashes; Ctrl-C stops them all. All listen on 127.0.0.1 unless
# CLINIC_BIND_HOST says otherwise (see docs/operations.md, "Security").
#   Rasa (REST + socket.io)   http://localhost:5005
#   action server             http://localhost:5055   (answers only Rasa: ACTION_SERVER_TOKEN)
#   widget demo page          http://localhost:8000
#   coordinators' inbox       http://localhost:8001
#   notification worker       (delivers the outbox: email / webhook)
#   privacy job               (redacts contact details in stored conversations, purges old ones)
# Logs: logs/<service>.log. Status: .venv-app/bin/supervisorctl -c var/supervisord.conf status
# supervisord runs on .venv-app's Python (3.11+); each service on its own (clinic/stack/services.py).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv-app/bin/python
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1
export CLINIC_ENV="${CLINIC_ENV:-development}"
mkdir -p var logs

scaled=()
if [ "${1:-}" = "--scaled" ]; then
  # PostgreSQL tracker store + Redis lock store + RabbitMQ event broker (endpoints.scaled.yml);
  # handoffs in PostgreSQL too.
  export TRACKER_DB_HOST="${TRACKER_DB_HOST:-127.0.0.1}" TRACKER_DB_PORT="${TRACKER_DB_PORT:-5432}"
  export TRACKER_DB_NAME="${TRACKER_DB_NAME:-clinic_rasa}" TRACKER_DB_USER="${TRACKER_DB_USER:-postgres}"
  export TRACKER_DB_PASSWORD="${TRACKER_DB_PASSWORD:-}"
  export REDIS_HOST="${REDIS_HOST:-127.0.0.1}" REDIS_PORT="${REDIS_PORT:-6379}" REDIS_DB="${REDIS_DB:-1}"
  export RABBITMQ_HOST="${RABBITMQ_HOST:-127.0.0.1}" RABBITMQ_PORT="${RABBITMQ_PORT:-5672}"
  export RABBITMQ_USER="${RABBITMQ_USER:-guest}" RABBITMQ_PASSWORD="${RABBITMQ_PASSWORD:-guest}"
  export EVENT_BROKER_AMQP_URL="${EVENT_BROKER_AMQP_URL:-amqp://$RABBITMQ_USER:$RABBITMQ_PASSWORD@$RABBITMQ_HOST:$RABBITMQ_PORT/%2F}"
  export HANDOFF_DATABASE_URL="${HANDOFF_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/clinic_handoffs}"
  export TRACKER_DATABASE_URL="${TRACKER_DATABASE_URL:-postgresql://$TRACKER_DB_USER@$TRACKER_DB_HOST:$TRACKER_DB_PORT/$TRACKER_DB_NAME}"
  for db in "$TRACKER_DB_NAME" clinic_handoffs; do
    psql -h "$TRACKER_DB_HOST" -U "$TRACKER_DB_USER" -d postgres -tc "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1 \
      || psql -h "$TRACKER_DB_HOST" -U "$TRACKER_DB_USER" -d postgres -c "CREATE DATABASE $db" >/dev/null
  done
  scaled=(--scaled)
  echo "Scaled set-up: PostgreSQL tracker store, Redis lock store, RabbitMQ event broker"
fi

exec "$PY" -m clinic.stack.supervise "${scaled[@]}"

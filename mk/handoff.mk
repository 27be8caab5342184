# Handoff back end: coordinators' inbox, notification worker, accounts, retention.
# Included by the main Makefile (`include mk/handoff.mk`), which defines PY and
# .venv/.installed. Settings come from the environment; see README, "For care coordinators".
#
#   make inbox                      serve the inbox on http://127.0.0.1:8001
#   make handoff-worker             send email/webhook notifications (runs until stopped)
#   make coordinator                create a coordinator account (asks for name and password)
#   make purge-handoffs [DAYS=90]   delete resolved requests past the retention period

INBOX_HOST ?= 127.0.0.1
INBOX_PORT ?= 8001
HANDOFF_WORKER_INTERVAL ?= 30

# Including this file must not change the main Makefile's default goal.
_handoff_saved_default_goal := $(.DEFAULT_GOAL)

.PHONY: inbox handoff-worker coordinator purge-handoffs

inbox: .venv/.installed
	$(PY) -m clinic.handoff.inbox --host $(INBOX_HOST) --port $(INBOX_PORT)

handoff-worker: .venv/.installed
	$(PY) -m clinic.handoff.cli worker --interval $(HANDOFF_WORKER_INTERVAL)

coordinator: .venv/.installed
	@name="$(COORDINATOR)"; \
	if [ -z "$$name" ]; then read -r -p "New coordinator's username: " name; fi; \
	$(PY) -m clinic.handoff.cli create-user "$$name"

purge-handoffs: .venv/.installed
	$(PY) -m clinic.handoff.cli purge $(if $(DAYS),--days $(DAYS))

.DEFAULT_GOAL := $(_handoff_saved_default_goal)

# The clinic assistant's commands. `make` (or `make help`) lists them by audience; two set up and
# do everything on a fresh machine: `make run` and `make test` (README.md).
#
# `make help` is generated from this file: a `##@ Title` line starts a section, and a `## text`
# comment after a target's prerequisites is its one-line description. A target without one is
# internal; tests/test_makefile.py fails if a .PHONY target has no description.
SHELL := /bin/bash
PY := .venv/bin/python
# The services and tools that do not need Rasa run on a supported Python (docs/python-versions.md).
APP := .venv-app/bin/python
RASA := .venv/bin/rasa
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

SPACY_MODEL := build/spacy_en_clinic/meta.json
ENCODER := build/encoder/encoder.onnx
TOPICS := $(wildcard content/topics/*.yml)
TRAIN_INPUTS := config.yml domain.yml content/safety.yml $(wildcard data/rules/*.yml data/nlu/*.yml data/safety/*.yml) \
                data/nlu/faq.yml $(wildcard clinic/nlp/*.py) $(SPACY_MODEL) $(ENCODER)
MODEL_STAMP := models/.trained
WIDGET_SOURCES := $(wildcard widget/src/*.js widget/src/*.css) widget/build.mjs widget/package.json

WIDGET_PORT ?= 8000
INBOX_HOST ?= 127.0.0.1
INBOX_PORT ?= 8001
HANDOFF_WORKER_INTERVAL ?= 30

.PHONY: help run test \
        check-content preview publish gaps \
        inbox handoff-worker coordinator purge-handoffs run-scaled run-config \
        widget widget-serve test-widget widget-screenshots \
        install data train lint validate test-fast test-python test-stories evaluate safety-sweep bench bench-edit bench-live-chat soak clean

##@ Everyone
# The first target, so the default goal: a bare `make` prints the list.
help: ## List every command with what it does (this list)
	@awk 'BEGIN { FS = ":[^#]*## " } \
	     /^##@ / { printf "%s%s\n", (sections++ ? "\n" : ""), substr($$0, 5); next } \
	     /^[a-zA-Z0-9_-]+:[^=]*## / { printf "  make %-20s %s\n", $$1, $$2 }' $(firstword $(MAKEFILE_LIST))
	@printf '\nSettings go on the command line or in the environment, e.g. make gaps SINCE=2024-03-01 (see docs/).\n'

# Every service under supervisord (clinic/stack/supervise.py): a crashed one is restarted within
# seconds, Ctrl-C stops them all. Logs in logs/, status: .venv/bin/supervisorctl -c var/supervisord.conf status
run: train widget ## Set up, train if needed and start everything: chat demo :8000, inbox :8001, Rasa :5005
	scripts/run_all.sh

test: train ## Set up and run every check and test (lint, data, content, stories, evaluation, pytest)
	scripts/install_browser.sh
	$(MAKE) lint validate check-content test-stories evaluate test-python

##@ Content editors (docs/editors.md)
# These depend on the virtualenv only (.venv-app/.installed), deliberately not on `data` or `install`:
# building the training data or the spaCy pipeline stops at the first broken topic file or
# content/terms.yml with a Python traceback, while the checker reports every problem with its file,
# line and fix. publish builds both itself, after the check has passed.
check-content: .venv-app/.installed ## Check content/ (topics, terms) and domain.yml: file, line and fix for each problem
	$(APP) -m clinic.content.check

preview: .venv-app/.installed ## Write build/preview/index.html: every answer as visitors see it, for sign-off
	$(APP) -m clinic.content.preview

publish: .venv/.installed .venv-app/.installed ## Check, train and load the new model into the running bot [RASA_URL=...]
	$(APP) -m clinic.content.publish $(if $(RASA_URL),--url $(RASA_URL))

gaps: .venv-app/.installed ## Questions the bot could not answer, grouped [SINCE= UNTIL= DB= CSV=]
	$(APP) -m clinic.content.gaps $(if $(SINCE),--since $(SINCE)) $(if $(UNTIL),--until $(UNTIL)) \
	    $(if $(DB),--db '$(DB)') $(if $(CSV),--csv $(CSV))

##@ Care coordinators and administrators (docs/coordinators.md, docs/operations.md)
inbox: .venv-app/.installed ## Serve the coordinators' inbox on http://127.0.0.1:8001 [INBOX_HOST= INBOX_PORT=]
	$(APP) -m clinic.handoff.inbox --host $(INBOX_HOST) --port $(INBOX_PORT)

handoff-worker: .venv-app/.installed ## Send email/webhook notifications of new requests, until stopped
	$(APP) -m clinic.handoff.cli worker --interval $(HANDOFF_WORKER_INTERVAL)

coordinator: .venv-app/.installed ## Create a coordinator account (asks for the password) [COORDINATOR=name]
	@name="$(COORDINATOR)"; \
	if [ -z "$$name" ]; then read -r -p "New coordinator's username: " name; fi; \
	$(APP) -m clinic.handoff.cli create-user "$$name"

purge-handoffs: .venv-app/.installed ## Delete resolved requests past the retention period [DAYS=90]
	$(APP) -m clinic.handoff.cli purge $(if $(DAYS),--days $(DAYS))

run-scaled: train widget ## Like run, with conversations in PostgreSQL + Redis and handoffs in PostgreSQL
	scripts/run_all.sh --scaled

run-config: install ## Write var/supervisord.conf without starting anything (to read or adapt it)
	$(PY) -m clinic.stack.supervise --write-config-only

##@ Website chat widget (docs/widget.md)
widget: widget/dist/widget.js ## Build widget/dist/widget.js (npm ci first when the lock changed)

# npm writes node_modules/.package-lock.json on every install: older than the lock = stale.
widget/node_modules/.package-lock.json: widget/package-lock.json
	cd widget && npm ci --no-audit --no-fund
	@touch $@

widget/dist/widget.js: widget/node_modules/.package-lock.json $(WIDGET_SOURCES)
	cd widget && npm run --silent build

widget-serve: widget .venv-app/.installed ## Serve the demo site on http://127.0.0.1:8000 (Rasa at RASA_URL, default :5005)
	$(APP) widget/serve.py --port $(WIDGET_PORT)

test-widget: widget $(MODEL_STAMP) ## Browser tests: real Chromium against a real Rasa (tests/widget)
	$(PY) -m pytest tests/widget -q

widget-screenshots: widget $(MODEL_STAMP) ## Write docs/screenshots/widget-desktop.png and widget-phone.png
	$(PY) -m clinic.devtools.screenshots

##@ Developers
install: .venv/.installed .venv-app/.installed $(SPACY_MODEL) $(ENCODER) ## Create .venv (3.10, Rasa) and .venv-app (3.11+, the rest) from their locks; build the spaCy pipeline and the sentence encoder

.venv/.installed: requirements.lock requirements-model.lock pyproject.toml scripts/install.sh
	scripts/install.sh rasa

.venv-app/.installed: requirements-app.lock pyproject.toml scripts/install.sh
	scripts/install.sh app

$(SPACY_MODEL): .venv/.installed content/terms.yml clinic/nlp/build_spacy.py
	$(PY) -m clinic.nlp.build_spacy

$(ENCODER): .venv/.installed clinic/nlp/build_encoder.py clinic/nlp/encoder_files.py
	$(PY) -m clinic.nlp.build_encoder

data: data/nlu/faq.yml ## Build data/nlu/faq.yml from content/topics (no training)

data/nlu/faq.yml: .venv/.installed $(TOPICS) $(wildcard clinic/content/*.py)
	$(PY) -m clinic.content.build --data-only

train: install $(MODEL_STAMP) ## Train models/clinic.tar.gz when its inputs changed (the build publish uses)

$(MODEL_STAMP): $(TRAIN_INPUTS)
	$(PY) -m clinic.content.build --model clinic
	touch $@

lint: install ## ruff check and ruff format --check (run `.venv/bin/ruff format .` to fix the layout)
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

validate: data ## rasa data validate, failing on any warning not explained in tests/validation_allowlist.yml
	$(PY) -m clinic.devtools.validate_data

# The quick loop while coding: no training, no browser, no server. Tests marked `slow` need one of
# those or take seconds (the marker is registered in pyproject.toml); `make test` runs everything.
test-fast: lint check-content data ## Lint, content checks and the tests that need no model, browser or server (< 1 min)
	$(PY) -m pytest -q -m "not slow"

test-python: train widget ## Every pytest test (unit, end-to-end, PostgreSQL, Redis, SMTP, Chromium)
	$(PY) -m pytest -q

test-stories: train ## Rasa's test stories (tests/test_stories.yml), failing on any wrong prediction
	$(RASA) test core --stories tests/test_stories.yml --fail-on-prediction-errors --e2e --out results/stories

evaluate: train ## Every evaluation set (held-out, issue 11, CLINC150 broad) end to end over REST; fails on a missed target
	$(PY) -m clinic.devtools.evaluate --start --check-targets

safety-sweep: install data ## The safety decision alone at several operating points, every set, minutes [SWEEP="--crisis-recall 0.90 0.92"]
	$(PY) -m clinic.devtools.safety_sweep $(SWEEP)

bench: train ## Speed and memory against Rasa's default config, and the worst-case NLU time per message (minutes)
	$(PY) -m clinic.devtools.worst_case_nlu
	$(PY) -m clinic.devtools.bench

bench-edit: train ## Time from saving a content change to visitors getting it [RUNS=]
	$(PY) -m clinic.devtools.edit_to_live $(if $(RUNS),--runs $(RUNS))

bench-live-chat: train widget ## Time for a live chat message to reach the other side, both ways [RUNS=40]
	$(PY) -m clinic.devtools.live_chat_latency $(if $(RUNS),--runs $(RUNS))

# Not part of `make test`: minutes of visitors chatting and handing off while Rasa and the action
# server are killed at random; prints the counts.
soak: train widget ## Visitors chat for minutes while services are killed [SOAK_SECONDS=300 SOAK_VISITORS=10]
	$(PY) -m clinic.devtools.soak $(if $(SOAK_SECONDS),--seconds $(SOAK_SECONDS)) \
	    $(if $(SOAK_VISITORS),--visitors $(SOAK_VISITORS))

clean: ## Delete build/, models/, results/, both venvs and the generated data/nlu/faq.yml
	rm -rf build models results .venv .venv-app data/nlu/faq.yml

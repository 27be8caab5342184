# Two commands do everything on a fresh machine: `make run` and `make test` (see README).
SHELL := /bin/bash
PY := .venv/bin/python
RASA := .venv/bin/rasa
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONPATH := $(CURDIR)

SPACY_MODEL := build/spacy_en_clinic/meta.json
TOPICS := $(wildcard content/topics/*.yml)
TRAIN_INPUTS := config.yml domain.yml $(wildcard data/*.yml data/nlu/*.yml) data/nlu/faq.yml \
                config/calibration.yml $(wildcard clinic_nlp/*.py) $(SPACY_MODEL)
MODEL_STAMP := models/.trained

.PHONY: install data calibrate train run run-scaled run-config test validate test-stories test-python evaluate bench \
        soak lint check-content clean

# Targets for the handoff inbox (mk/handoff.mk), the widget (mk/widget.mk) and content tools
# (mk/content.mk) live beside this file.
-include $(wildcard mk/*.mk)

## Set-up ------------------------------------------------------------------------------------
install: .venv/.installed $(SPACY_MODEL)

.venv/.installed: requirements.lock scripts/install.sh
	scripts/install.sh

$(SPACY_MODEL): .venv/.installed data/terms.yml clinic_nlp/build_spacy.py
	$(PY) -m clinic_nlp.build_spacy

data: data/nlu/faq.yml

data/nlu/faq.yml: .venv/.installed $(TOPICS) $(wildcard clinic_content/*.py)
	$(PY) -m clinic_content.compile

## Training ----------------------------------------------------------------------------------
train: install $(MODEL_STAMP)

# Re-choose the scope and safety thresholds (config/calibration.yml, committed) on out-of-fold
# probabilities over the training data and CLINC150's train split (../shared/data/clinc150).
# Run it after changing the NLU data or the encoder; `make train` then uses the new file.
calibrate: install data
	$(PY) -m clinic_nlp.calibrate

$(MODEL_STAMP): $(TRAIN_INPUTS)
	$(RASA) train --quiet --fixed-model-name clinic
	touch $@

## Running -----------------------------------------------------------------------------------
# Every service under supervisord (clinic_core/supervise.py): a crashed one is restarted within
# seconds, Ctrl-C stops them all. Logs in logs/, status: .venv/bin/supervisorctl -c var/supervisord.conf status
run: train widget
	scripts/run_all.sh

run-scaled: train widget
	scripts/run_all.sh --scaled

# Write var/supervisord.conf without starting anything (to read it, or to adapt it for a server).
run-config: install
	$(PY) -m clinic_core.supervise --write-config-only

## Checks and tests --------------------------------------------------------------------------
test: train
	scripts/install_browser.sh
	$(MAKE) lint validate check-content test-stories evaluate test-python

lint: install
	.venv/bin/ruff check .

validate: data
	$(PY) scripts/validate_data.py

test-stories: train
	$(RASA) test core --stories tests/test_stories.yml --fail-on-prediction-errors --e2e --out results/stories

test-python: train widget
	$(PY) -m pytest -q

evaluate: train
	$(PY) -m tests.evaluation.evaluate --start --check-targets

bench: train
	$(PY) -m benchmarks.bench

# Not part of `make test`: minutes of visitors chatting and handing off while Rasa and the action
# server are killed at random; prints the counts. SOAK_SECONDS (default 300), SOAK_VISITORS (10).
soak: train widget
	$(PY) -m benchmarks.soak $(if $(SOAK_SECONDS),--seconds $(SOAK_SECONDS)) \
	    $(if $(SOAK_VISITORS),--visitors $(SOAK_VISITORS))

clean:
	rm -rf build models results .venv data/nlu/faq.yml

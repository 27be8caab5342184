# Website chat widget (widget/): one script tag, bundled with esbuild into widget/dist/widget.js.
# Included by the main Makefile, which defines PY and MODEL_STAMP. See README, "The website chat widget".
#
#   make widget               npm ci (when node_modules is missing or older than the lock), then build
#   make widget-serve         demo site on http://127.0.0.1:8000 (Rasa at $$RASA_URL or :5005)
#   make test-widget          browser tests: real Chromium, real Rasa (tests/widget)
#   make widget-screenshots   docs/screenshots/widget-desktop.png and widget-phone.png

WIDGET_SOURCES := $(wildcard widget/src/*.js widget/src/*.css) widget/build.mjs widget/package.json
WIDGET_PORT ?= 8000

# Including this file must not change the main Makefile's default goal.
_widget_saved_default_goal := $(.DEFAULT_GOAL)

.PHONY: widget widget-serve test-widget widget-screenshots

widget: widget/dist/widget.js

# npm writes node_modules/.package-lock.json on every install: older than the lock = stale.
widget/node_modules/.package-lock.json: widget/package-lock.json
	cd widget && npm ci --no-audit --no-fund
	@touch $@

widget/dist/widget.js: widget/node_modules/.package-lock.json $(WIDGET_SOURCES)
	cd widget && npm run --silent build

widget-serve: widget
	$(PY) widget/serve.py --port $(WIDGET_PORT)

test-widget: widget $(MODEL_STAMP)
	$(PY) -m pytest tests/widget -q

widget-screenshots: widget $(MODEL_STAMP)
	$(PY) -m clinic.devtools.screenshots

.DEFAULT_GOAL := $(_widget_saved_default_goal)

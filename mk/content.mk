# Content editors' tools (README, "For content editors"). Included by the main Makefile, which defines PY,
# RASA and the install/data/train targets.
#
#   make check-content                 check content/topics, content/terms.yml, domain.yml (seconds)
#   make preview                       build/preview/index.html: every answer as visitors see it
#   make publish                       check, train, and load the new model into the running bot
#                                      (needs RASA_API_TOKEN, the token the bot was started with)
#   make gaps [SINCE=2024-03-01] [UNTIL=2024-03-31] [DB=<tracker store URL>] [CSV=gaps.csv]
#                                      questions the bot could not answer, grouped, most frequent first
#   make bench-edit                    measure edit-to-live time on a stack of its own
#
# These depend on the virtualenv only (.venv/.installed), deliberately not on `data` or
# `install`: building the training data or the spaCy pipeline stops at the first broken topic
# file or content/terms.yml with a Python traceback, while the checker reports every problem with
# its file, line and fix. publish builds both itself, after the check has passed.

# Including this file must not change the main Makefile's default goal.
_content_saved_default_goal := $(.DEFAULT_GOAL)

.PHONY: check-content preview publish gaps bench-edit

check-content: .venv/.installed
	$(PY) -m clinic.content.check

preview: .venv/.installed
	$(PY) -m clinic.content.preview

publish: .venv/.installed
	$(PY) -m clinic.content.publish $(if $(RASA_URL),--url $(RASA_URL))

gaps: .venv/.installed
	$(PY) -m clinic.content.gaps $(if $(SINCE),--since $(SINCE)) $(if $(UNTIL),--until $(UNTIL)) \
	    $(if $(DB),--db '$(DB)') $(if $(CSV),--csv $(CSV))

bench-edit: train
	$(PY) -m clinic.devtools.edit_to_live $(if $(RUNS),--runs $(RUNS))

.DEFAULT_GOAL := $(_content_saved_default_goal)

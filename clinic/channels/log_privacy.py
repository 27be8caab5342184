"""Keep what visitors write out of the Rasa server's log.

Visitors write names, phone numbers and health worries; the log is read by operators and kept.
The channels never log message text themselves (`clinic.channels.always_reply`), and two more guards
cover Rasa's own code:

* A message starting with ``/`` is an intent shortcut in Rasa, and when it does not parse or
  names an intent or entity the domain lacks, Rasa warns on stderr quoting the whole message.
  Those warnings (`VISITOR_WARNINGS`) describe visitor input, not a fault: they are ignored.
* While a message is processed, `visitor_text` holds its text, and a filter on the log handlers
  replaces that text (as written, or escaped as in Rasa's JSON log lines) in any record logged
  meanwhile, by any logger (structlog included: Rasa routes it through `logging`), with
  ``[visitor text]``; a record whose exception message quotes it loses the exception message.
"""

from __future__ import annotations

import contextlib
import json
import logging
import warnings
from collections.abc import Iterator
from contextvars import ContextVar

REDACTED = "[visitor text]"
MIN_REDACTED_CHARS = 4  # shorter texts ("hi", "ok") are everywhere in a log and identify no one

VISITOR_WARNINGS = (r"Parsed an (intent|entity) ", r"Failed to parse arguments in line ")

visitor_text: ContextVar[str] = ContextVar("visitor_text", default="")


def _forms(text: str) -> set[str]:
    """The text as written and as JSON writes it (escaped, with and without non-ASCII)."""
    return {text, json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1]}


@contextlib.contextmanager
def processing(text: str | None) -> Iterator[None]:
    """Marks `text` as the message being processed in this task (and the tasks it starts)."""
    token = visitor_text.set(text or "")
    try:
        yield
    finally:
        visitor_text.reset(token)


class VisitorTextFilter(logging.Filter):
    """Replaces the text of the message being processed in every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = visitor_text.get()
        if len(text) < MIN_REDACTED_CHARS:
            return True
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 (a record that cannot be formatted is left alone)
            return True
        forms = _forms(text)
        if any(form in message for form in forms):
            for form in forms:
                message = message.replace(form, REDACTED)
            record.msg, record.args = message, None
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and any(form in str(error) for form in forms):
            record.msg = f"{record.msg} ({type(error).__name__}, message withheld: it quotes the visitor)"
            record.exc_info, record.exc_text = None, None
        return True


_installed = False


def keep_visitor_text_out_of_logs() -> None:
    """Installs both guards (once per process): the warnings filter and the handler filter."""
    global _installed
    if _installed:
        return
    _installed = True
    for pattern in VISITOR_WARNINGS:
        warnings.filterwarnings("ignore", message=pattern)
    text_filter = VisitorTextFilter()
    for handler in logging.getLogger().handlers:
        handler.addFilter(text_filter)

"""Exceptions shared by the store, the notification worker, the CLI and the inbox.

Kept apart from ``store`` so that lower-level modules (notifications) can raise them
without importing the store.
"""


class StoreUnavailable(RuntimeError):
    """The handoff database cannot be reached or written. Nothing was saved.

    The bot catches this and tells the visitor honestly, offering the clinic's phone
    number and email instead.
    """


class InvalidHandoff(ValueError):
    """The submitted handoff data is incomplete or malformed (a bug in the caller)."""


class HandoffNotFound(LookupError):
    """No handoff with that reference."""


class InvalidTransition(RuntimeError):
    """The requested status change is not allowed from the handoff's current status."""


class AccountError(ValueError):
    """A coordinator account could not be created or changed."""


class TooManyRequests(RuntimeError):
    """A rate limit was reached (new handoffs per conversation or per client address).

    Nothing was saved; the bot tells the visitor kindly that a request is already on its way
    and how to reach the clinic directly if it is urgent.
    """

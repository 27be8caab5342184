"""Handoff back end: visitors' requests to talk to a care coordinator.

The bot's form action uses ``HandoffStore.from_settings().create(NewHandoff(...))``;
coordinators work in the inbox (``python -m handoff.inbox``); the worker
(``python -m handoff.cli worker``) sends the notifications. See README, "For care coordinators".
"""

from handoff.errors import (
    HandoffNotFound,
    InvalidHandoff,
    InvalidTransition,
    StoreUnavailable,
    TooManyRequests,
)
from handoff.settings import (
    Clinic,
    ConfigurationError,
    Settings,
    load_clinic,
    load_settings,
)
from handoff.store import HandoffStore, NewHandoff, Receipt

__all__ = [
    "Clinic",
    "ConfigurationError",
    "HandoffNotFound",
    "HandoffStore",
    "InvalidHandoff",
    "InvalidTransition",
    "NewHandoff",
    "Receipt",
    "Settings",
    "StoreUnavailable",
    "TooManyRequests",
    "load_clinic",
    "load_settings",
]

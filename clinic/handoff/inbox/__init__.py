"""The coordinators' inbox: a small Flask app over the handoff store (developers edit it)."""

from clinic.handoff.inbox.app import create_app

__all__ = ["create_app"]

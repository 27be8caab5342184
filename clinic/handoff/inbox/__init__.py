"""The coordinators' inbox: a small Flask app over the handoff store."""

from clinic.handoff.inbox.app import create_app

__all__ = ["create_app"]

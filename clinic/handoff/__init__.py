"""Handoff back end: visitors' requests to a care coordinator, the inbox, notifications (developers).

The bot's form action uses ``clinic.handoff.requests.HandoffStore.from_settings().create(NewHandoff(...))``;
coordinators work in the inbox (``python -m clinic.handoff.inbox``); the worker
(``python -m clinic.handoff.cli worker``) sends the notifications. See docs/coordinators.md.
"""

"""Rasa input channels (REST, socket.io) hardened for a public website: developers edit them."""

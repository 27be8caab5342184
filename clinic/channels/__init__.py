"""Custom Rasa input channels for the clinic assistant."""

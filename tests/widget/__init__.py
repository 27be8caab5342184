"""Browser tests of the website chat widget (real Chromium, real Rasa)."""

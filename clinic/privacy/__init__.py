"""Keep visitors' personal data out of the conversation store: redact it, and purge on a schedule."""

"""Keep visitors' personal data out of the conversation store: redact it, and purge on a schedule
(developers; the retention settings are in content/clinic.yml and the environment)."""

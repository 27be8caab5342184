"""Developers' tools: evaluation, benchmarks, screenshots, data validation (never imported by the bot)."""

"""Persistence: models, engine set-up and migrations."""

"""Inventory alert bot: a live store-sales feed into SQLite, Slack alerts and slash commands."""

__version__ = "0.1.0"

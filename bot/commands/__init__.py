"""Slash commands, independent of how they arrive: text in, a reply out. Slack, the demo and
the tests reach the same handlers."""

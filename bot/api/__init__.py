"""REST API, health and metrics: what the bot serves over HTTP beside Slack."""

"""The pure core: decisions over plain data, with the clock passed in. No asyncio, SQLite or
Slack here, so every rule is tested in a few lines."""

"""The Slack side: Bolt app, commands, rendering and the sender."""

"""The Slack side: the Bolt app and its listeners, the App Home, rendering, and the sender."""

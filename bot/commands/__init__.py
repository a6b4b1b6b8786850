"""Slash commands, independent of how they arrive: text in, a reply out. Slack's listeners,
the terminal demo and the tests reach the same code, through `dispatch.Commands`; each command
is a module of its own, and a button does what its command does by calling the same function."""

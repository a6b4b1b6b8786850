"""The two kinds of error a person reads: a refusal (what they asked cannot be done, and why)
and a reason the bot cannot start. Each message is the whole story, in one line."""


class Refusal(Exception):
    """What someone asked cannot be done; the message says why, for the person who asked.
    Nothing was changed."""


class CommandError(Refusal):
    """A change to alerts or transfers that cannot be made as asked (no such alert, ...)."""


class RuleError(Refusal, ValueError):
    """A rule or scope that cannot be saved."""


class Unsure(Exception):
    """A change was handed to the leading process, which took it but never answered: it may or
    may not have been made. The message says so, for the person who asked."""


class CannotStart(Exception):
    """The bot cannot start: a bad setting, a database it cannot use. One line, no secret."""

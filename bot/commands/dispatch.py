"""`Commands.handle`: whatever someone typed after a slash command, the reply to it. It never
raises: a refusal is a private reply saying why (nothing changed); a database that cannot answer
now is said so; a bug is logged and the person is told it is on the bot's side."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from bot.commands.alerts import alerts
from bot.commands.parse import Usage, words
from bot.commands.replies import Reply, problem, sentence
from bot.commands.request import Context, Request
from bot.commands.stock import stock
from bot.commands.thresholds import thresholds
from bot.commands.transfers import transfers
from bot.core.errors import Refusal

log = logging.getLogger(__name__)

Handler = Callable[[Context, Request, list[str]], Awaitable[Reply]]
HANDLERS: dict[str, Handler] = {
    "stock": stock,
    "transfers": transfers,
    "thresholds": thresholds,
    "alerts": alerts,
}
FAILED = "Something went wrong on my side; it is in the bot's log."
UNAVAILABLE = "I cannot reach the database just now. Try again in a minute."


class Commands:
    """Answers commands against `context`; see the module docstring."""

    def __init__(self, context: Context) -> None:
        self.context = context
        # Called with (command, seconds taken, refused) after each answer: the metrics.
        self.answered: list[Callable[[str, float, bool], None]] = []

    async def handle(self, request: Request) -> Reply:
        """The reply to `request`, whatever was typed; never raises."""
        started = time.perf_counter()
        reply = await self.run(request.command, lambda: self._answer(request))
        for listener in self.answered:
            listener(request.command.lstrip("/"), time.perf_counter() - started, reply.error)
        return reply

    async def run(self, command: str, work: Callable[[], Awaitable[Reply]]) -> Reply:
        """`work`'s reply, with its refusals and failures turned into replies (for buttons,
        which call a command's function directly)."""
        try:
            return await work()
        except Usage as error:
            return problem(str(error))
        except Refusal as error:
            return problem(sentence(str(error)))
        except self.context.unavailable as error:
            log.warning(
                "the database cannot answer", extra={"command": command, "error": str(error)}
            )
            return problem(UNAVAILABLE)
        except Exception:
            log.exception("command failed", extra={"command": command})
            return problem(FAILED)

    async def _answer(self, request: Request) -> Reply:
        handler = HANDLERS.get(request.command.lstrip("/"))
        if handler is None:
            return problem(f"I don't know the command `{request.command[:30]}`.")
        return await handler(self.context, request, words(request.text))

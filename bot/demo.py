"""`inventory-bot demo`: the bot on the simulated feed, in a terminal, with no Slack at all.

The screen shows what the bot would post in its alert channel, as Slack would show it (edits
in place, thread replies under their alert), the lowest stock, and a line of progress. At the
prompt a newcomer types `/stock maine` or `/thresholds set low=3` and reads the answer: the
command goes through the same handlers Slack reaches, on the same stored state.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import termios
import time
import tty
from collections.abc import Iterator
from dataclasses import dataclass, field

from rich.console import Group, RenderableType
from rich.layout import Layout
from rich.live import Live
from rich.panel import Panel
from rich.text import Text

from bot.commands.request import Request
from bot.config import Settings
from bot.feed.simulator import SimulatorOptions
from bot.runtime import Bot
from bot.slack.terminal import to_rich
from bot.slack.transport import Posted
from bot.store.rows import Level

DEMO_CHANNEL = "C0DEMO"
DEMO_USER = "U0DEMO"
REFRESH = 0.25  # seconds between two redraws
HELP = Text.from_markup(
    "Type a command as in Slack: [bold]/stock maine[/bold], [bold]/stock aderi[/bold], "
    "[bold]/transfers[/bold], [bold]/alerts[/bold], [bold]/thresholds set low=3[/bold], "
    "[bold]/alerts ack 1[/bold]; [bold]help[/bold] for more; [bold]q[/bold] to quit."
)


@dataclass
class Message:
    """A message as it stands in the demo's channel."""

    ts: str
    text: str
    blocks: list[dict] | None
    replies: list[str] = field(default_factory=list)
    edited: bool = False


class DemoTransport:
    """Where the sender's calls land in the demo: a channel kept in memory, drawn on screen."""

    def __init__(self) -> None:
        self.messages: dict[str, Message] = {}
        self._n = 0

    async def post(self, channel: str, payload: dict, outbox_id: int) -> Posted:
        ts = self._ts()
        self.messages[ts] = Message(ts, payload["text"], payload.get("blocks"))
        return Posted(channel, ts)

    async def reply(self, channel_id: str, thread_ts: str, payload: dict, outbox_id: int) -> Posted:
        parent = self.messages.get(thread_ts)
        if parent is not None:
            parent.replies.append(payload["text"])
        return Posted(channel_id, self._ts())

    async def update(self, channel_id: str, ts: str, payload: dict) -> None:
        message = self.messages.get(ts)
        if message is not None:
            message.text, message.blocks, message.edited = (
                payload["text"],
                payload.get("blocks"),
                True,
            )

    async def find(
        self, channel: str, outbox_id: int, *, since: float, thread_ts: str | None
    ) -> Posted | None:
        return None

    def _ts(self) -> str:
        self._n += 1
        return f"{time.time():.0f}.{self._n:06d}"


class Screen:
    """What the terminal shows; `render()` draws it as it stands."""

    def __init__(self, bot: Bot, transport: DemoTransport, channel: str) -> None:
        self.bot, self.transport, self.channel = bot, transport, channel
        self.typed = ""
        self.answer: Text = HELP
        self.lowest: list[Level] = []
        self._started = time.monotonic()

    def render(self, height: int) -> RenderableType:
        layout = Layout()
        layout.split_column(
            Layout(self._progress(), size=4),
            Layout(name="middle"),
            Layout(Panel(self.answer, title="Answer"), size=12),
            Layout(Text.assemble(("> ", "bold green"), self.typed, "▌"), size=1),
        )
        layout["middle"].split_row(
            Layout(self._alerts(height - 17), ratio=3), Layout(self._stock(), ratio=2)
        )
        return layout

    def _progress(self) -> Panel:
        bot = self.bot
        writer, feeds = bot.writer, bot.feeds
        events = writer.stats.events if writer else 0
        rate = events / max(1.0, time.monotonic() - self._started)
        live = sum(f.live for f in feeds)
        engine = bot.engine
        open_alerts = len(engine.open_incidents()) if engine else 0
        suggestions = len(engine.transfers.suggestions) if engine else 0
        port = bot.web.port if bot.web else "-"
        line = (
            f"[bold]{events:,}[/bold] sales stored · {rate:.1f}/s · feeds live {live}/{len(feeds)}"
            f" · bad frames {writer.stats.bad_frames if writer else 0}\n"
            f"open alerts [bold]{open_alerts}[/bold] · transfer suggestions {suggestions}"
            f" · API and metrics on http://{bot.settings.http_host}:{port}"
        )
        return Panel(Text.from_markup(line), title="Inventory bot — demo (no Slack needed)")

    def _alerts(self, rows: int) -> Panel:
        lines: list[Text] = []
        for message in reversed(list(self.transport.messages.values())):
            shown = _message_lines(message)
            if lines and len(lines) + len(shown) > rows:
                break
            lines.extend(shown)
        if not lines:
            lines = [Text("Nothing posted yet: alerts appear here as the bot posts them.")]
        return Panel(Group(*lines), title=f"#{self.channel}, newest first, as Slack shows it")

    def _stock(self) -> Panel:
        rows = [
            Text.assemble((f"{level.inventory:>4}", "cyan"), f" {level.model} at {level.store}")
            for level in self.lowest
        ] or [Text("No sales yet.")]
        return Panel(Group(*rows), title="Lowest stock")

    def key(self, char: str) -> str | None:
        """A key pressed; returns the line when Enter completes one."""
        if char in ("\r", "\n"):
            line, self.typed = self.typed.strip(), ""
            return line
        if char in ("\x7f", "\b"):
            self.typed = self.typed[:-1]
        elif char == "\x15":  # Ctrl-U
            self.typed = ""
        elif char.isprintable():
            self.typed += char
        return None


def _message_lines(message: Message) -> list[Text]:
    blocks = message.blocks or []
    texts = [
        b.get("text", {}).get("text", "")
        for b in blocks
        if b.get("type") in ("header", "section") and b.get("text")
    ] or [message.text]
    title, *body = texts
    lines = [Text.assemble(to_rich(title, "bold"), " (edited)" if message.edited else "")]
    for part in body:
        lines.extend(Text.assemble("  ", to_rich(row)) for row in part.splitlines())
    lines.extend(Text.assemble("    ↳ ", to_rich(reply)) for reply in message.replies[-2:])
    return lines


@contextlib.contextmanager
def _keys() -> Iterator[asyncio.Queue[str]]:
    """Keys as they are pressed (the terminal in cbreak mode, restored on the way out)."""
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    queue: asyncio.Queue[str] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    def readable() -> None:
        data = os.read(fd, 1024).decode(errors="replace")
        if not data:
            queue.put_nowait("\x04")
        for char in data:
            queue.put_nowait(char)

    tty.setcbreak(fd)
    loop.add_reader(fd, readable)
    try:
        yield queue
    finally:
        loop.remove_reader(fd)
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def demo_settings(settings: Settings) -> Settings:
    """The demo's settings: the user's, with Slack left out and an alert channel of its own
    if none is set."""
    return settings.model_copy(
        update={
            "slack_bot_token": None,
            "slack_app_token": None,
            "alert_channel": settings.alert_channel or DEMO_CHANNEL,
        }
    )


async def run_demo(settings: Settings, simulator: SimulatorOptions) -> int:
    """Run the bot with the live view until `q`, Ctrl-D or a signal."""
    settings = demo_settings(settings)
    transport = DemoTransport()
    bot = Bot(settings, transport=transport, simulator=simulator)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await bot.start()
        screen = Screen(bot, transport, settings.alert_channel or DEMO_CHANNEL)
        await _show(bot, screen, stop)
    finally:
        await bot.stop()
    print(f"Stopped. The data is in {settings.database_path}; `make run` again to go on.")
    return 0


async def _show(bot: Bot, screen: Screen, stop: asyncio.Event) -> None:
    with _keys() as keys, Live(screen=True, auto_refresh=False) as live:
        next_read = 0.0
        while not stop.is_set():
            if time.monotonic() >= next_read and bot.reads is not None:
                screen.lowest = await bot.reads.lowest_levels(limit=20)
                next_read = time.monotonic() + 1.0
            live.update(screen.render(live.console.size.height), refresh=True)
            try:
                char = await asyncio.wait_for(keys.get(), REFRESH)
            except TimeoutError:
                continue
            if char == "\x04":  # Ctrl-D
                return
            line = screen.key(char)
            if line is None or not line:
                continue
            if line.lower() in ("q", "quit", "exit"):
                return
            screen.answer = await _answer(bot, screen.channel, line)


async def _answer(bot: Bot, channel: str, line: str) -> Text:
    if line.lower() in ("help", "?"):
        return HELP
    command, _, text = line.lstrip("/").partition(" ")
    reply = await bot.commands.handle(Request(command.lower(), text, channel, DEMO_USER))
    shown = Text.assemble((line, "dim"), "\n", to_rich(reply.text))
    if reply.announce:
        shown.append_text(Text.assemble(("\nIn the channel: ", "dim"), to_rich(reply.announce)))
    return shown

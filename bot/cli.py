"""The `inventory-bot` command: `run` (the default), `demo`, `simulate`, `health` and `migrate`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sqlite3
import sys
import urllib.request
from pathlib import Path

import asyncpg

from bot.config import Settings, SettingsError, load_settings
from bot.core.errors import CannotStart
from bot.demo import run_demo
from bot.feed.simulator import SimulatorOptions, serve_feed, server_url, write_lines
from bot.logs import setup_logging
from bot.runtime import Bot
from bot.store.move import move
from bot.store.postgres.url import EXAMPLE, shown_url

log = logging.getLogger("bot")

DEMO_RATE = 20.0  # sales a second in the demo: alerts within seconds, not minutes


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "simulate":
        return _simulate(args)
    if args.command == "health":
        return _health(args.url)
    if args.command == "migrate":
        return _migrate(args)
    if args.command == "demo":
        return _run(demo=SimulatorOptions(mode="realistic", seed=args.seed, rate=args.rate))
    return _run(plain=getattr(args, "plain", False))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inventory-bot",
        description="Stock alerts and answers in Slack from a live store-sales feed.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="run the bot (the default); settings come from the environment and .env",
        description="Run the bot. Without SLACK_BOT_TOKEN, in a terminal, it shows the demo's "
        "live view instead of log lines (see `demo`).",
    )
    run.add_argument(
        "--plain", action="store_true", help="log lines even in a terminal without Slack"
    )
    demo = commands.add_parser(
        "demo",
        help="the bot on a simulated feed, in this terminal: alerts as Slack would show them, "
        "and a prompt for /stock, /transfers, /thresholds and /alerts",
    )
    demo.add_argument("--seed", type=int, help="random seed of the simulated chain")
    demo.add_argument(
        "--rate",
        type=_positive_float,
        default=DEMO_RATE,
        metavar="N",
        help="sales a second from the simulator (default: %(default)s)",
    )
    health = commands.add_parser(
        "health",
        help="exit 0 if the bot's /healthz answers, 1 if not (the container's HEALTHCHECK)",
    )
    health.add_argument(
        "--url", help="the URL to ask (default: /healthz on HTTP_PORT of this machine)"
    )
    _add_simulate(commands)
    _add_migrate(commands)
    return parser


def _add_migrate(commands: argparse._SubParsersAction) -> None:
    move = commands.add_parser(
        "migrate",
        help="copy a SQLite database into an empty PostgreSQL database",
        description="Copy the bot's SQLite database into an empty PostgreSQL database: levels, "
        "paces, names, rules, alerts, the outbox, suggestions, transfers, dead letters, and the "
        "events within retention. Stop the bot first for a copy up to its last sale.",
    )
    move.add_argument("--from", dest="source", type=Path, required=True, metavar="FILE")
    move.add_argument(
        "--to", dest="target", required=True, metavar="URL", help=f"for example {EXAMPLE}"
    )
    move.add_argument(
        "--retention-days",
        type=_positive_float,
        default=Settings.model_fields["event_retention_days"].default,
        metavar="N",
        help="copy the events of the last N days (default: %(default)s)",
    )


def _add_simulate(commands: argparse._SubParsersAction) -> None:
    sim = commands.add_parser(
        "simulate",
        help="serve a simulated sales feed",
        description="Serve a simulated sales feed over WebSocket, or print it for websocketd: "
        "websocketd --port=8080 inventory-bot simulate --stdout",
    )
    sim.add_argument(
        "--mode",
        choices=["random", "realistic"],
        default="random",
        help="random: like the public demo (levels drawn from 0..100); "
        "realistic: stock falls one pair per sale and is restocked (default: random)",
    )
    sim.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    sim.add_argument(
        "--port", type=int, default=8080, help="port to listen on (default: %(default)s)"
    )
    sim.add_argument(
        "--stdout",
        action="store_true",
        help="print JSON lines on stdout instead of serving WebSocket",
    )
    sim.add_argument(
        "--rate",
        type=_positive_float,
        metavar="N",
        help="send N messages a second, whatever the world's own pace",
    )
    sim.add_argument(
        "--flash-sale",
        type=_positive_float,
        nargs="?",
        const=5.0,
        default=1.0,
        metavar="X",
        help="multiply demand by X (default when given: 5; realistic mode)",
    )
    sim.add_argument("--seed", type=int, help="random seed: the same seed gives the same feed")
    sim.add_argument("--count", type=_positive_int, metavar="N", help="stop after N messages")
    sim.add_argument(
        "--stores", type=_positive_int, default=10, help="number of stores (default: 10)"
    )
    sim.add_argument(
        "--models", type=_positive_int, default=20, help="number of models (default: 20)"
    )


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be positive")
    return value


def _simulate(args: argparse.Namespace) -> int:
    options = SimulatorOptions(
        mode=args.mode,
        seed=args.seed,
        stores=args.stores,
        models=args.models,
        flash_sale=args.flash_sale,
        rate=args.rate,
        count=args.count,
    )
    if args.stdout:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        with contextlib.suppress(KeyboardInterrupt):
            write_lines(options)
        return 0
    setup_logging("INFO")
    return asyncio.run(_serve(options, args.host, args.port))


async def _serve(options: SimulatorOptions, host: str, port: int) -> int:
    stop = _stop_on_signals()
    try:
        server = await serve_feed(options, host, port)
    except OSError as error:
        print(f"inventory-bot: cannot listen on {host}:{port}: {error.strerror}", file=sys.stderr)
        return 1
    log.info("serving the simulated feed", extra={"url": server_url(server), "mode": options.mode})
    await stop.wait()
    server.close()
    await server.wait_closed()
    return 0


def _migrate(args: argparse.Namespace) -> int:
    setup_logging("WARNING")
    try:
        moved = asyncio.run(move(args.source, args.target, retention_days=args.retention_days))
    except CannotStart as error:  # the file, the URL, the server, a non-empty target
        print(f"inventory-bot migrate: {error}", file=sys.stderr)
        return 1
    except asyncpg.PostgresError as error:
        print(
            f"inventory-bot migrate: --to={shown_url(args.target)}: the copy failed and was "
            f"undone ({type(error).__name__}: {error})",
            file=sys.stderr,
        )
        return 1
    width = max(map(len, moved.rows))
    for table, count in moved.rows.items():
        print(f"{table:<{width}} {count:>12,}")
    print(
        f"copied {sum(moved.rows.values()):,} rows from {args.source} to "
        f"{shown_url(args.target)} in {moved.seconds:.1f} s"
    )
    return 0


def _health(url: str | None) -> int:
    if url is None:
        try:
            port = load_settings().http_port
        except SettingsError as error:
            print(f"inventory-bot: bad setting {error.lines[0]}", file=sys.stderr)
            return 1
        url = f"http://127.0.0.1:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            answered = response.status == 200
    except (OSError, ValueError) as error:
        print(f"inventory-bot: {url} did not answer: {error}", file=sys.stderr)
        return 1
    return 0 if answered else 1


def _run(*, plain: bool = False, demo: SimulatorOptions | None = None) -> int:
    try:
        settings = load_settings()
    except SettingsError as error:
        for line in error.lines:
            print(f"inventory-bot: bad setting {line}", file=sys.stderr)
        return 2
    in_terminal = sys.stdin.isatty() and sys.stdout.isatty()
    if demo is None and not plain and in_terminal and settings.slack_bot_token is None:
        # `make run` with no Slack settings yet: show what the bot does, here.
        demo = SimulatorOptions(mode=settings.simulator_mode, rate=DEMO_RATE)
    if demo is not None:
        if not in_terminal:
            print(
                "inventory-bot: the demo needs a terminal; try `inventory-bot run`", file=sys.stderr
            )
            return 2
        # The screen is the demo's: logs go to a file beside the database.
        log_file = settings.database_path.parent / "demo.log"
        log_file.parent.mkdir(parents=True, exist_ok=True)
        setup_logging(settings.log_level, settings.log_format, settings.secrets(), log_file)
        return asyncio.run(run_demo(settings, demo))
    setup_logging(settings.log_level, settings.log_format, settings.secrets())
    return asyncio.run(_run_bot(settings))


async def _run_bot(settings) -> int:
    stop = _stop_on_signals()
    if settings.api_open_to_the_network:
        log.warning(
            "/api answers anyone who reaches it, without a token (API_PUBLIC=true)",
            extra={"host": settings.http_host, "port": settings.http_port},
        )
    bot = Bot(settings)
    try:
        try:
            await bot.start()
        except CannotStart as error:  # a schema too new, a PostgreSQL server out of reach
            print(f"inventory-bot: {error}", file=sys.stderr)
            return 1
        except (OSError, sqlite3.Error) as error:
            print(
                f"inventory-bot: cannot open DATABASE_PATH={settings.database_path}: {error}",
                file=sys.stderr,
            )
            return 1
        return await bot.run_until(stop)
    finally:
        await bot.stop()
        log.info("stopped")


def _stop_on_signals() -> asyncio.Event:
    """An event set by the first SIGINT or SIGTERM; a second one ends the process at once."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal(signum: int) -> None:
        if stop.is_set():
            log.warning("second signal: exiting without flushing")
            os._exit(1)
        log.info("signal received; shutting down", extra={"signal": signal.Signals(signum).name})
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal, signum)
    return stop

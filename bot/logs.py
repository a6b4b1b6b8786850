"""Log setup: one line per event worth logging, message first, then its fields as key=value."""

from __future__ import annotations

import logging
import sys

# Attributes every LogRecord has; anything else on a record came from `extra=` and is a field.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def fields_of(record: logging.LogRecord) -> dict[str, object]:
    """The structured fields passed with `extra=`."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD}


class KeyValueFormatter(logging.Formatter):
    """`2026-11-22 10:00:00 INFO bot.feed.client feed live url=ws://... detail=connected`"""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s", "%Y-%m-%d %H:%M:%S")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        fields = fields_of(record)
        if fields:
            line += " " + " ".join(f"{key}={_show(value)}" for key, value in fields.items())
        return line


def _show(value: object) -> str:
    text = str(value)
    return repr(text) if (" " in text or not text or "=" in text) else text


def setup_logging(level: str) -> None:
    """Send the bot's logs to stderr at `level`; quieten chatty libraries."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # websockets logs every failed handshake and closed connection; the feed client already
    # says what matters, once.
    logging.getLogger("websockets").setLevel(logging.ERROR)

"""Log setup: one line per event worth logging, message first, then its fields, as key=value
text or as one JSON object a line (LOG_FORMAT=json). Secrets never reach the output: the
tokens in use, and anything shaped like a Slack token, are masked in messages and fields."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import orjson

from bot.core.secrets import MASK

# Attributes every LogRecord has; anything else on a record came from `extra=` and is a field.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
# Slack bot, user and app-level tokens, wherever they turn up (an error echoing a request...).
_TOKEN_SHAPE = re.compile(r"\bx(?:ox[abprse]|app)-[A-Za-z0-9-]{6,}")


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


class JsonFormatter(logging.Formatter):
    """`{"at": "2026-11-22T10:00:00.123Z", "level": "INFO", "logger": ..., "message": ...,
    ...fields, "error": traceback, "stack": stack}` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(fields_of(record))
        if record.exc_text or record.exc_info:
            entry["error"] = record.exc_text or self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(entry, default=str).decode()


class Redact(logging.Filter):
    """Masks `secrets` and token-shaped text in a record's message, arguments and fields."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            self._mask(record)
        except Exception:  # a filter that raises would raise in the code that logged
            record.__dict__.update(msg="a log line could not be masked; dropped", args=None)
            for key in fields_of(record):
                delattr(record, key)
            record.exc_info = record.exc_text = record.stack_info = None
        return True

    def _mask(self, record: logging.LogRecord) -> None:
        record.msg = self._clean(record.getMessage())
        record.args = None
        for key, value in fields_of(record).items():
            if not isinstance(value, int | float | bool | None):
                # Shown as text in the end: a dict or an exception could hold a secret.
                text = value if isinstance(value, str) else str(value)
                cleaned = self._clean(text)
                if cleaned != text or isinstance(value, str):
                    setattr(record, key, cleaned)
        if record.exc_info and record.exc_info[1] is not None:
            # Formatted here, once, so the traceback's text can be masked too.
            record.exc_text = self._clean(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = self._clean(record.stack_info)

    def _clean(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return _TOKEN_SHAPE.sub(MASK, text)


def _show(value: object) -> str:
    text = str(value)
    return repr(text) if (" " in text or not text or "=" in text) else text


def setup_logging(
    level: str, fmt: str = "text", secrets: Iterable[str] = (), path: Path | None = None
) -> None:
    """Send the bot's logs to stderr (or the file at `path`) at `level`, as text or JSON,
    with `secrets` masked; quieten chatty libraries."""
    handler = logging.StreamHandler(sys.stderr) if path is None else logging.FileHandler(path)
    handler.setFormatter(JsonFormatter() if fmt == "json" else KeyValueFormatter())
    handler.addFilter(Redact(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # websockets logs every failed handshake and closed connection; the feed client already
    # says what matters, once.
    logging.getLogger("websockets").setLevel(logging.ERROR)

"""The alert processor's rows (bot/store/batch.py AlertRows) in PostgreSQL, inside the writer's
transaction: what SQLite does with INSERT OR REPLACE is an upsert on the table's key here. A
batch holds few of these rows (tens), so executemany, one pipelined round trip each."""

from __future__ import annotations

import asyncpg

from bot.store.batch import AlertRows
from bot.store.codec import (
    INCIDENT_COLUMNS,
    RULE_COLUMNS,
    SUGGESTION_COLUMNS,
    TRANSFER_COLUMNS,
)


def upsert(table: str, columns: str, key: str) -> str:
    """INSERT of every column of `columns`, replacing the row with the same `key` columns."""
    names = [c.strip() for c in columns.split(",")]
    keys = {c.strip() for c in key.split(",")}
    marks = ", ".join(f"${n}" for n in range(1, len(names) + 1))
    sets = ", ".join(f"{c} = excluded.{c}" for c in names if c not in keys)
    return (
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks}) "
        f"ON CONFLICT ({key}) DO UPDATE SET {sets}"
    )


_INCIDENTS = upsert("incidents", INCIDENT_COLUMNS, "id")
_SUGGESTIONS = upsert("suggestions", SUGGESTION_COLUMNS, "id")
_TRANSFERS = upsert("transfers", TRANSFER_COLUMNS, "id")
_MACHINES = upsert(
    "alert_machines", "channel, store, model, side, state", "channel, store, model, side"
)
_MUTES = upsert(
    "mutes",
    "channel, kind, store, model, muted_by, muted_at, muted_until",
    "channel, kind, store, model",
)
_NOTIFIERS = upsert("notifiers", "channel, state", "channel")
_CHANNELS = upsert("channels", "id, stores, models, quiet_hours, updated_at", "id")
_RULES = (
    f"INSERT INTO rules ({RULE_COLUMNS}) "
    f"VALUES ({', '.join(f'${n}' for n in range(1, RULE_COLUMNS.count(',') + 2))})"
)
_HOMES = upsert("home_stores", "user_id, stores, updated_at", "user_id")
_OUTBOX = (
    "INSERT INTO outbox (id, created_at, channel, op, incident_id, payload, term) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7)"
)
# The answers to changes other processes handed over, in the transaction that applies them.
_ANSWERS = "UPDATE requests SET answered_at = $2, result = $3, error = $4 WHERE id = $1"
_CHANGES = (
    "INSERT INTO config_changes (at, channel, user_id, action, summary) VALUES ($1, $2, $3, $4, $5)"
)


async def write_alerts(conn: asyncpg.Connection, rows: AlertRows, term: int = 0) -> None:
    """The alert processor's rows, inside the open transaction; outbox rows carry the `term`
    of the leader that committed them."""
    statements = [
        (_INCIDENTS, rows.incidents),
        (_MACHINES, rows.machines),
        (
            "DELETE FROM alert_machines "
            "WHERE channel = $1 AND store = $2 AND model = $3 AND side = $4",
            rows.machines_gone,
        ),
        (_MUTES, rows.mutes),
        (
            "DELETE FROM mutes WHERE channel = $1 AND kind = $2 AND store = $3 AND model = $4",
            rows.mutes_gone,
        ),
        (_NOTIFIERS, rows.notifiers),
        (
            _OUTBOX,
            [
                (r.id, r.created_at, r.channel, r.op, r.incident_id, r.payload, term)
                for r in rows.outbox
            ],
        ),
        (_CHANGES, rows.changes),
        (_CHANNELS, rows.channels),
    ]
    for sql, args in statements:
        if args:
            await conn.executemany(sql, args)
    if rows.channels:
        # A channel's rules are written whole: those it no longer has go.
        await conn.execute(
            "DELETE FROM rules WHERE channel = ANY($1::text[])", [c[0] for c in rows.channels]
        )
    for sql, args in [
        (_RULES, rows.rules),
        (_HOMES, rows.homes),
        (_SUGGESTIONS, rows.suggestions),
        ("DELETE FROM suggestions WHERE id = $1", rows.suggestions_gone),
        (_TRANSFERS, rows.transfers),
        (_ANSWERS, rows.requests),
    ]:
        if args:
            await conn.executemany(sql, args)
    if rows.requests:  # their askers are woken at commit (bot/store/postgres/handover.py)
        await conn.execute("SELECT pg_notify('answers', $1)", str(rows.requests[-1][0]))

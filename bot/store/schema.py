"""The schema as numbered migrations. `PRAGMA user_version` holds the number applied; each
migration runs in its own transaction, so a database is always at one exact version."""

from __future__ import annotations

# Append only: never edit a migration that has shipped, add the next one.
MIGRATIONS: list[str] = [
    # 1: the feed's facts. Names are stored once and referred to by id, which keeps the event
    # log small (1M events is about 40 MB) and the level upsert fast.
    """
    CREATE TABLE feeds (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        first_seen_at REAL NOT NULL
    );
    CREATE TABLE stores (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        first_seen_at REAL NOT NULL
    );
    CREATE TABLE models (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        first_seen_at REAL NOT NULL
    );
    -- Current stock per (store, model): the last level reported and when.
    CREATE TABLE levels (
        store_id INTEGER NOT NULL,
        model_id INTEGER NOT NULL,
        inventory INTEGER NOT NULL,
        last_sale_at REAL NOT NULL,
        sale_count INTEGER NOT NULL,
        first_seen_at REAL NOT NULL,
        PRIMARY KEY (store_id, model_id)
    ) WITHOUT ROWID;
    -- One model across every store. Inventory is left out on purpose: an index entry that
    -- changes with every sale would double the cost of each upsert. One store's levels are a
    -- range of the primary key.
    CREATE INDEX levels_by_model ON levels (model_id);
    -- Every sale as received, kept EVENT_RETENTION_DAYS. Ids grow with arrival time, so time
    -- ranges are found by a binary search on the id: no index on `at` to keep up.
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        feed_id INTEGER NOT NULL,
        store_id INTEGER NOT NULL,
        model_id INTEGER NOT NULL,
        inventory INTEGER NOT NULL
    );
    -- The last DEAD_LETTER_LIMIT refused frames, with why and how they started.
    CREATE TABLE dead_letters (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        feed_id INTEGER NOT NULL,
        reason TEXT NOT NULL,
        detail TEXT NOT NULL,
        sample TEXT NOT NULL,
        size INTEGER NOT NULL
    );
    -- Refused frames counted for ever, per feed and reason, even after dead letters are pruned.
    CREATE TABLE bad_frame_counts (
        feed_id INTEGER NOT NULL,
        reason TEXT NOT NULL,
        count INTEGER NOT NULL,
        last_at REAL NOT NULL,
        PRIMARY KEY (feed_id, reason)
    ) WITHOUT ROWID;
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)

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
    # 2: alerting. Channel configuration with its audit log; the engine's state (incidents,
    # alert machines, mutes, notifier state); the outbox the writer fills in the transaction
    # that decided each message, and the deliveries the sender records.
    """
    CREATE TABLE channels (
        id TEXT PRIMARY KEY,
        stores TEXT,  -- JSON array; NULL watches every store
        models TEXT,  -- JSON array; NULL watches every model
        quiet_hours TEXT,  -- JSON {"start", "end", "timezone"}; NULL: none
        updated_at REAL NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE rules (
        channel TEXT NOT NULL,
        store TEXT NOT NULL,  -- '' for any store
        model TEXT NOT NULL,  -- '' for any model
        low INTEGER,
        high INTEGER,
        gate_readings INTEGER NOT NULL,
        gate_seconds REAL NOT NULL,
        updated_by TEXT NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (channel, store, model)
    ) WITHOUT ROWID;
    CREATE TABLE config_changes (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        channel TEXT NOT NULL,
        user TEXT NOT NULL,
        action TEXT NOT NULL,
        summary TEXT NOT NULL
    );
    CREATE TABLE incidents (
        id INTEGER PRIMARY KEY,
        channel TEXT NOT NULL,
        kind TEXT NOT NULL,
        store TEXT,
        model TEXT,
        severity TEXT,
        opened_at REAL NOT NULL,
        fired_at REAL NOT NULL,
        resolved_at REAL,
        level INTEGER,
        threshold INTEGER,
        shown TEXT NOT NULL,
        parent_id INTEGER,
        acked_by TEXT,
        acked_at REAL,
        snoozed_by TEXT,
        snoozed_until REAL,
        muted_by TEXT,
        detail TEXT NOT NULL  -- JSON
    );
    CREATE INDEX incidents_open ON incidents (channel) WHERE resolved_at IS NULL;
    CREATE TABLE alert_machines (
        channel TEXT NOT NULL,
        store TEXT NOT NULL,
        model TEXT NOT NULL,
        side TEXT NOT NULL,
        state TEXT NOT NULL,  -- JSON of AlertMachine
        PRIMARY KEY (channel, store, model, side)
    ) WITHOUT ROWID;
    CREATE TABLE mutes (
        channel TEXT NOT NULL,
        kind TEXT NOT NULL,
        store TEXT NOT NULL,
        model TEXT NOT NULL,
        muted_by TEXT NOT NULL,
        muted_at REAL NOT NULL,
        PRIMARY KEY (channel, kind, store, model)
    ) WITHOUT ROWID;
    CREATE TABLE notifiers (
        channel TEXT PRIMARY KEY,
        state TEXT NOT NULL  -- JSON of ChannelNotifier.state()
    ) WITHOUT ROWID;
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        created_at REAL NOT NULL,
        channel TEXT NOT NULL,
        op TEXT NOT NULL,  -- post | update | reply
        incident_id INTEGER NOT NULL,
        payload TEXT NOT NULL  -- JSON: {"view"} to render, or {"note", "broadcast"}
    );
    CREATE TABLE deliveries (
        outbox_id INTEGER PRIMARY KEY,
        state TEXT NOT NULL,  -- trying | sent | superseded | failed
        attempts INTEGER NOT NULL,
        first_attempt_at REAL,
        done_at REAL,
        error TEXT
    );
    -- Where each incident's message is in Slack, once posted.
    CREATE TABLE messages (
        incident_id INTEGER PRIMARY KEY,
        channel_id TEXT NOT NULL,
        ts TEXT NOT NULL
    );
    """,
    # 3: the lowest levels of the whole chain, for /stock and the App Home. Partial, so the index
    # changes only when a level crosses LOW_LISTED or moves below it, not with every sale.
    """
    CREATE INDEX levels_low ON levels (inventory) WHERE inventory <= 20;
    """,
    # 4: how fast each shelf sells (bot/core/velocity.py), and transfers. A shelf's pace is its
    # decayed sales and in-stock hours as of its last sale; a model's is the sum of its shelves'.
    """
    ALTER TABLE levels ADD COLUMN fast_sold REAL NOT NULL DEFAULT 0;
    ALTER TABLE levels ADD COLUMN fast_hours REAL NOT NULL DEFAULT 0;
    ALTER TABLE levels ADD COLUMN slow_sold REAL NOT NULL DEFAULT 0;
    ALTER TABLE levels ADD COLUMN slow_hours REAL NOT NULL DEFAULT 0;
    CREATE TABLE model_paces (
        model_id INTEGER PRIMARY KEY,
        fast_sold REAL NOT NULL,
        fast_hours REAL NOT NULL,
        slow_sold REAL NOT NULL,
        slow_hours REAL NOT NULL,
        at REAL NOT NULL,
        stocked INTEGER NOT NULL  -- shelves holding stock
    );
    -- The planner's current suggestions, replaced model by model as it plans again.
    CREATE TABLE suggestions (
        id INTEGER PRIMARY KEY,
        model TEXT NOT NULL,
        source TEXT NOT NULL,
        target TEXT NOT NULL,
        quantity INTEGER NOT NULL,
        why TEXT NOT NULL,
        urgency REAL NOT NULL,  -- the receiver's cover in hours (or level): lower is worse
        by_rate INTEGER NOT NULL,
        source_before REAL NOT NULL,
        source_after REAL NOT NULL,
        target_before REAL NOT NULL,
        target_after REAL NOT NULL,
        source_level INTEGER NOT NULL,
        target_level INTEGER NOT NULL,
        km REAL,
        planned_at REAL NOT NULL
    );
    -- /transfers: worst first in the chain, for one model, or to and from one store.
    CREATE INDEX suggestions_by_urgency ON suggestions (by_rate DESC, urgency);
    CREATE INDEX suggestions_by_model ON suggestions (model, by_rate DESC, urgency);
    CREATE INDEX suggestions_by_source ON suggestions (source);
    CREATE INDEX suggestions_by_target ON suggestions (target);
    -- Suggestions someone accepted (then received, expired or cancelled) or dismissed.
    CREATE TABLE transfers (
        id INTEGER PRIMARY KEY,
        model TEXT NOT NULL,
        source TEXT NOT NULL,
        target TEXT NOT NULL,
        quantity INTEGER NOT NULL,
        why TEXT NOT NULL,
        status TEXT NOT NULL,  -- accepted | received | expired | cancelled | dismissed
        by TEXT NOT NULL,
        at REAL NOT NULL,
        source_last INTEGER NOT NULL,
        target_low INTEGER NOT NULL,
        sent INTEGER NOT NULL,
        source_gone INTEGER NOT NULL,
        closed_at REAL,
        closed_by TEXT,
        suggestion_id INTEGER
    );
    CREATE INDEX transfers_open ON transfers (model) WHERE status = 'accepted';
    CREATE INDEX transfers_by_time ON transfers (at);
    """,
    # 5: suggestion ids are never given twice, even when the newest suggestions were replaced
    # just before a restart: a Slack button still showing "Accept S41" must not accept another
    # move. AUTOINCREMENT keeps the highest id ever used in sqlite_sequence, seeded here from
    # the suggestions left and the ones transfers came from.
    """
    CREATE TABLE suggestions_5 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        model TEXT NOT NULL,
        source TEXT NOT NULL,
        target TEXT NOT NULL,
        quantity INTEGER NOT NULL,
        why TEXT NOT NULL,
        urgency REAL NOT NULL,
        by_rate INTEGER NOT NULL,
        source_before REAL NOT NULL,
        source_after REAL NOT NULL,
        target_before REAL NOT NULL,
        target_after REAL NOT NULL,
        source_level INTEGER NOT NULL,
        target_level INTEGER NOT NULL,
        km REAL,
        planned_at REAL NOT NULL
    );
    INSERT INTO suggestions_5 SELECT * FROM suggestions;  -- version 4's columns, in order
    DROP TABLE suggestions;
    ALTER TABLE suggestions_5 RENAME TO suggestions;
    DELETE FROM sqlite_sequence WHERE name IN ('suggestions', 'suggestions_5');
    INSERT INTO sqlite_sequence (name, seq) SELECT 'suggestions', max(
        (SELECT coalesce(max(id), 0) FROM suggestions),
        (SELECT coalesce(max(suggestion_id), 0) FROM transfers)
    );
    CREATE INDEX suggestions_by_urgency ON suggestions (by_rate DESC, urgency);
    CREATE INDEX suggestions_by_model ON suggestions (model, by_rate DESC, urgency);
    CREATE INDEX suggestions_by_source ON suggestions (source);
    CREATE INDEX suggestions_by_target ON suggestions (target);
    """,
    # 6: a mute may end by itself.
    """
    ALTER TABLE mutes ADD COLUMN muted_until REAL;  -- NULL: until someone unmutes
    """,
    # 7: rules in days of cover, with owners and escalation; the stores each person follows in
    # the App Home.
    """
    ALTER TABLE rules ADD COLUMN low_days REAL;  -- NULL: low is in pairs
    ALTER TABLE rules ADD COLUMN high_days REAL;
    ALTER TABLE rules ADD COLUMN owner TEXT;  -- a Slack user (U..., W...) or user group (S...)
    ALTER TABLE rules ADD COLUMN second_owner TEXT;
    ALTER TABLE rules ADD COLUMN escalate_seconds REAL;  -- NULL: the owner is called once
    CREATE TABLE home_stores (
        user_id TEXT PRIMARY KEY,
        stores TEXT NOT NULL,  -- JSON array, in the order picked
        updated_at REAL NOT NULL
    ) WITHOUT ROWID;
    """,
]


SCHEMA_VERSION = len(MIGRATIONS)

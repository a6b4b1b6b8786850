"""The PostgreSQL schema as numbered migrations (bot/store/postgres/migrate.py applies them).

Migration 1 is the SQLite schema at its version 6 (bot/store/schema.py), made for PostgreSQL:
- Epoch seconds stay `double precision` and JSON stays `text` as orjson wrote it, so rows mean
  what they mean in SQLite and the shared codec reads both.
- `levels` is updated in place on every sale: no index on `inventory` (an indexed column that
  changes makes every update a non-HOT one, with a new entry in every index) and fillfactor 70
  (room in each page for the new row versions). The lowest levels, which SQLite finds through a
  partial index, are listed in `low_levels` instead.
- `events` is partitioned by UTC day of `at`: retention drops whole days, and "since T" reads
  only the days since T.
- Ids that must never be given twice (suggestions, whose number a Slack button may still show;
  transfers, incidents and outbox rows, which Slack messages refer to) are identity columns whose
  sequence never falls below the highest id written, even an id the engine chose itself.
- Names that the bot sorts by (stores, models, the moves' stores and models) compare byte-wise
  (COLLATE "C"), as SQLite does, whatever the database's default collation.
- No foreign keys, as in SQLite: the writer is the only writer, and checks on the hot path
  would cost each batch.
"""

from __future__ import annotations

# Append only: never edit a migration that has shipped, add the next one.
MIGRATIONS: list[str] = [
    """
    -- The feed's facts. The writer gives names their ids in memory (bot/store/writer.py), so
    -- these are plain keys, not identities.
    CREATE TABLE feeds (
        id integer PRIMARY KEY,
        url text COLLATE "C" NOT NULL UNIQUE,
        first_seen_at double precision NOT NULL
    );
    CREATE TABLE stores (
        id integer PRIMARY KEY,
        name text COLLATE "C" NOT NULL UNIQUE,
        first_seen_at double precision NOT NULL
    );
    CREATE TABLE models (
        id integer PRIMARY KEY,
        name text COLLATE "C" NOT NULL UNIQUE,
        first_seen_at double precision NOT NULL
    );

    -- Current stock and pace per (store, model), rewritten by every batch. Only columns that
    -- never change are indexed, so updates are HOT: the new row version goes in the same page
    -- with no new index entries. fillfactor 70 keeps that room.
    CREATE TABLE levels (
        store_id integer NOT NULL,
        model_id integer NOT NULL,
        inventory integer NOT NULL,
        last_sale_at double precision NOT NULL,
        sale_count bigint NOT NULL,
        first_seen_at double precision NOT NULL,
        fast_sold double precision NOT NULL DEFAULT 0,
        fast_hours double precision NOT NULL DEFAULT 0,
        slow_sold double precision NOT NULL DEFAULT 0,
        slow_hours double precision NOT NULL DEFAULT 0,
        PRIMARY KEY (store_id, model_id)
    ) WITH (fillfactor = 70);
    -- One model across every store; one store's levels are a range of the primary key.
    CREATE INDEX levels_by_model ON levels (model_id);

    -- The levels at or below LOW_LISTED (20), lowest first through its index: what SQLite's
    -- partial index levels_low gives. The writer keeps it in the batch's transaction: it
    -- upserts the batch's levels at or below 20 here and deletes those above. A small table
    -- whose index changes only for low shelves, instead of an index on levels.inventory that
    -- would make every level update non-HOT.
    CREATE TABLE low_levels (
        store_id integer NOT NULL,
        model_id integer NOT NULL,
        inventory integer NOT NULL CHECK (inventory <= 20),
        PRIMARY KEY (store_id, model_id)
    );
    CREATE INDEX low_levels_by_inventory ON low_levels (inventory);

    -- Every sale as received, one partition per UTC day of `at` (epoch seconds), named
    -- events_YYYYMMDD; events_add_partitions makes them ahead and events_drop_partitions is the
    -- retention. Ids grow with arrival. The primary key must hold the partition key; the index
    -- on `at` answers "since T" from T on rather than from the start of T's day (it costs
    -- about a fifth of COPY's speed, a few per cent of a whole batch).
    CREATE TABLE events (
        id bigint GENERATED ALWAYS AS IDENTITY,
        at double precision NOT NULL,
        feed_id integer NOT NULL,
        store_id integer NOT NULL,
        model_id integer NOT NULL,
        inventory integer NOT NULL,
        PRIMARY KEY (id, at)
    ) PARTITION BY RANGE (at);
    CREATE INDEX events_by_time ON events (at);

    -- The last DEAD_LETTER_LIMIT refused frames, and refused frames counted for ever.
    CREATE TABLE dead_letters (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at double precision NOT NULL,
        feed_id integer NOT NULL,
        reason text NOT NULL,
        detail text NOT NULL,
        sample text NOT NULL,
        size integer NOT NULL
    );
    CREATE TABLE bad_frame_counts (
        feed_id integer NOT NULL,
        reason text NOT NULL,
        count bigint NOT NULL,
        last_at double precision NOT NULL,
        PRIMARY KEY (feed_id, reason)
    );

    -- Alerting: channel configuration and its audit log.
    CREATE TABLE channels (
        id text PRIMARY KEY,
        stores text,  -- JSON array; NULL watches every store
        models text,  -- JSON array; NULL watches every model
        quiet_hours text,  -- JSON {"start", "end", "timezone"}; NULL: none
        updated_at double precision NOT NULL
    );
    CREATE TABLE rules (
        channel text NOT NULL,
        store text NOT NULL,  -- '' for any store
        model text NOT NULL,  -- '' for any model
        low integer,
        high integer,
        gate_readings integer NOT NULL,
        gate_seconds double precision NOT NULL,
        updated_by text NOT NULL,
        updated_at double precision NOT NULL,
        PRIMARY KEY (channel, store, model)
    );
    -- `user_id`, not SQLite's `user`: in PostgreSQL a bare `user` is CURRENT_USER, so a query
    -- that forgot to quote it would read the role's name without an error.
    CREATE TABLE config_changes (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at double precision NOT NULL,
        channel text NOT NULL,
        user_id text NOT NULL,
        action text NOT NULL,
        summary text NOT NULL
    );
    CREATE INDEX config_changes_by_channel ON config_changes (channel, id);

    -- The engine's state. Incident and outbox ids are chosen by the engine (BY DEFAULT); the
    -- trigger below keeps their sequences at or above every id written.
    CREATE TABLE incidents (
        id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        channel text NOT NULL,
        kind text NOT NULL,
        store text COLLATE "C",
        model text COLLATE "C",
        severity text,
        opened_at double precision NOT NULL,
        fired_at double precision NOT NULL,
        resolved_at double precision,
        level integer,
        threshold integer,
        shown text NOT NULL,
        parent_id bigint,
        acked_by text,
        acked_at double precision,
        snoozed_by text,
        snoozed_until double precision,
        muted_by text,
        detail text NOT NULL  -- JSON
    );
    CREATE INDEX incidents_open ON incidents (channel, id) WHERE resolved_at IS NULL;
    CREATE TABLE alert_machines (
        channel text NOT NULL,
        store text NOT NULL,
        model text NOT NULL,
        side text NOT NULL,
        state text NOT NULL,  -- JSON of AlertMachine
        PRIMARY KEY (channel, store, model, side)
    );
    CREATE TABLE mutes (
        channel text NOT NULL,
        kind text NOT NULL,
        store text NOT NULL,
        model text NOT NULL,
        muted_by text NOT NULL,
        muted_at double precision NOT NULL,
        muted_until double precision,  -- NULL: until someone unmutes
        PRIMARY KEY (channel, kind, store, model)
    );
    CREATE TABLE notifiers (
        channel text PRIMARY KEY,
        state text NOT NULL  -- JSON of ChannelNotifier.state()
    );
    CREATE TABLE outbox (
        id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        created_at double precision NOT NULL,
        channel text NOT NULL,
        op text NOT NULL,  -- post | update | reply
        incident_id bigint NOT NULL,
        payload text NOT NULL  -- JSON: {"view"} to render, or {"note", "broadcast"}
    );
    CREATE TABLE deliveries (
        outbox_id bigint PRIMARY KEY,
        state text NOT NULL,  -- trying | sent | superseded | failed
        attempts integer NOT NULL,
        first_attempt_at double precision,
        done_at double precision,
        error text
    );
    -- Where each incident's message is in Slack, once posted.
    CREATE TABLE messages (
        incident_id bigint PRIMARY KEY,
        channel_id text NOT NULL,
        ts text NOT NULL
    );

    -- How fast each model sells over all its shelves, rewritten with its levels.
    CREATE TABLE model_paces (
        model_id integer PRIMARY KEY,
        fast_sold double precision NOT NULL,
        fast_hours double precision NOT NULL,
        slow_sold double precision NOT NULL,
        slow_hours double precision NOT NULL,
        at double precision NOT NULL,
        stocked integer NOT NULL  -- shelves holding stock
    ) WITH (fillfactor = 70);

    -- The planner's current suggestions, and the ones someone acted on.
    CREATE TABLE suggestions (
        id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        model text COLLATE "C" NOT NULL,
        source text COLLATE "C" NOT NULL,
        target text COLLATE "C" NOT NULL,
        quantity integer NOT NULL,
        why text NOT NULL,
        urgency double precision NOT NULL,  -- the receiver's cover in hours (or level)
        by_rate boolean NOT NULL,
        source_before double precision NOT NULL,
        source_after double precision NOT NULL,
        target_before double precision NOT NULL,
        target_after double precision NOT NULL,
        source_level integer NOT NULL,
        target_level integer NOT NULL,
        km double precision,
        planned_at double precision NOT NULL
    );
    CREATE INDEX suggestions_by_urgency ON suggestions (by_rate DESC, urgency);
    CREATE INDEX suggestions_by_model ON suggestions (model, by_rate DESC, urgency);
    CREATE INDEX suggestions_by_source ON suggestions (source);
    CREATE INDEX suggestions_by_target ON suggestions (target);
    CREATE TABLE transfers (
        id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        model text COLLATE "C" NOT NULL,
        source text COLLATE "C" NOT NULL,
        target text COLLATE "C" NOT NULL,
        quantity integer NOT NULL,
        why text NOT NULL,
        status text NOT NULL,  -- accepted | received | expired | cancelled | dismissed
        by text NOT NULL,
        at double precision NOT NULL,
        source_last integer NOT NULL,
        target_low integer NOT NULL,
        sent boolean NOT NULL,
        source_gone integer NOT NULL,
        closed_at double precision,
        closed_by text,
        suggestion_id bigint
    );
    CREATE INDEX transfers_open ON transfers (model) WHERE status = 'accepted';
    CREATE INDEX transfers_by_time ON transfers (at);

    -- Ids the engine chose itself still move the table's sequence past them, so an id is
    -- never given twice: not by the engine after a restart (it starts from next_id), and not by
    -- a default. What SQLite's AUTOINCREMENT keeps in sqlite_sequence.
    CREATE FUNCTION keep_ids_above_written() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        sequence regclass := pg_get_serial_sequence(TG_TABLE_NAME, 'id');
        highest bigint;
    BEGIN
        SELECT max(id) INTO highest FROM written;
        IF highest > coalesce(pg_sequence_last_value(sequence), 0) THEN
            PERFORM setval(sequence, highest);
        END IF;
        RETURN NULL;
    END $$;
    CREATE TRIGGER incidents_ids AFTER INSERT ON incidents REFERENCING NEW TABLE AS written
        FOR EACH STATEMENT EXECUTE FUNCTION keep_ids_above_written();
    CREATE TRIGGER outbox_ids AFTER INSERT ON outbox REFERENCING NEW TABLE AS written
        FOR EACH STATEMENT EXECUTE FUNCTION keep_ids_above_written();
    CREATE TRIGGER suggestions_ids AFTER INSERT ON suggestions REFERENCING NEW TABLE AS written
        FOR EACH STATEMENT EXECUTE FUNCTION keep_ids_above_written();
    CREATE TRIGGER transfers_ids AFTER INSERT ON transfers REFERENCING NEW TABLE AS written
        FOR EACH STATEMENT EXECUTE FUNCTION keep_ids_above_written();

    -- Day partitions of the event log. Creating or dropping a partition takes an ACCESS
    -- EXCLUSIVE lock on `events`; lock_timeout makes it give up after a second rather than
    -- queue the writer behind a long reader, and the next sweep tries again (partitions are
    -- made a day ahead, so a miss costs nothing).
    CREATE FUNCTION events_add_partitions(from_at double precision, days_ahead integer)
    RETURNS SETOF text LANGUAGE plpgsql SET lock_timeout = '1s' AS $$
    DECLARE
        day bigint;  -- days since 1970-01-01 (a FOR loop's integer would overflow in seconds)
        name text;
    BEGIN
        FOR ahead IN 0 .. days_ahead LOOP
            day := floor(from_at / 86400)::bigint + ahead;
            name := 'events_' || to_char(to_timestamp(day * 86400) AT TIME ZONE 'UTC', 'YYYYMMDD');
            IF to_regclass(quote_ident(name)) IS NULL THEN
                EXECUTE format(
                    'CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%s) TO (%s)',
                    name, day * 86400, (day + 1) * 86400
                );
                RETURN NEXT name;
            END IF;
        END LOOP;
    END $$;
    -- Drops every partition that ends at or before `before_at`: a day is dropped once all of
    -- it is older than the retention, so events are kept between N and N + 1 days.
    CREATE FUNCTION events_drop_partitions(before_at double precision)
    RETURNS SETOF text LANGUAGE plpgsql SET lock_timeout = '1s' AS $$
    DECLARE
        part record;
    BEGIN
        FOR part IN
            SELECT c.relname, substring(
                pg_get_expr(c.relpartbound, c.oid) FROM 'TO \\(''([^'']+)''\\)'
            )::double precision AS upper_bound
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'events'::regclass
            ORDER BY upper_bound
        LOOP
            EXIT WHEN part.upper_bound IS NULL OR part.upper_bound > before_at;
            EXECUTE format('DROP TABLE %I', part.relname);
            RETURN NEXT part.relname;
        END LOOP;
    END $$;
    """,
    # 2: two or more bots on one database (bot/store/postgres/leadership.py, handover.py). The
    # leader is whoever holds a session advisory lock; `term` rises each time one takes the
    # lead, and every batch and Slack call checks it (fencing), so a leader that was frozen and
    # wakes up can neither commit nor post.
    """
    CREATE TABLE leadership (
        id integer PRIMARY KEY CHECK (id = 1),
        term bigint NOT NULL,
        leader text NOT NULL,  -- the process that took the lead ("host pid")
        since double precision NOT NULL
    );
    INSERT INTO leadership VALUES (1, 0, '', 0);
    -- Changes people ask of a process that does not lead, handed to the leader, applied in
    -- order with the feed, and answered here (both sides are woken by NOTIFY).
    CREATE TABLE requests (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at double precision NOT NULL,
        action text NOT NULL,  -- JSON (bot/store/action_codec.py)
        answered_at double precision,
        result text,  -- JSON
        error text  -- JSON {"kind", "message"}: the refusal, for the asker to raise
    );
    CREATE INDEX requests_waiting ON requests (id) WHERE answered_at IS NULL;
    -- The term of the leader that committed each outbox row.
    ALTER TABLE outbox ADD COLUMN term bigint NOT NULL DEFAULT 0;
    """,
    # 3: which of the writer's batches committed last. Each batch's transaction sets it, so a
    # writer whose connection dropped while COMMIT was on its way can ask whether the batch
    # landed before writing it again (a batch is never written twice, nor lost).
    """
    CREATE TABLE writer_progress (
        only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
        batch bigint NOT NULL
    );
    INSERT INTO writer_progress (batch) VALUES (0);
    """,
    # 4: SQLite's migration 7: rules in days of cover, with owners and escalation; the stores
    # each person follows in the App Home.
    """
    ALTER TABLE rules ADD COLUMN low_days double precision;  -- NULL: low is in pairs
    ALTER TABLE rules ADD COLUMN high_days double precision;
    ALTER TABLE rules ADD COLUMN owner text;  -- a Slack user (U..., W...) or user group (S...)
    ALTER TABLE rules ADD COLUMN second_owner text;
    ALTER TABLE rules ADD COLUMN escalate_seconds double precision;  -- NULL: called once
    CREATE TABLE home_stores (
        user_id text PRIMARY KEY,
        stores text NOT NULL,  -- JSON array, in the order picked
        updated_at double precision NOT NULL
    );
    """,
    # 5: the Slack request signatures the processes accepted in the last five minutes, so a
    # replay reaching another replica is refused too (bot/store/postgres/signatures.py).
    """
    CREATE TABLE slack_signatures (
        signature text PRIMARY KEY,
        expires_at double precision NOT NULL
    );
    """,
]


SCHEMA_VERSION = len(MIGRATIONS)

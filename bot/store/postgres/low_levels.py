"""Keeping low_levels (migration 1) in step with levels: the writer calls this in the batch's
transaction with the levels it just wrote."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from bot.store.rows import LOW_LISTED

# One round trip: shelves of the batch above LOW_LISTED leave the list, the others join it or
# move in it. A level that did not change is not rewritten. Keys are unique within a batch
# (the writer folds a batch's sales per shelf).
_SYNC = f"""
    WITH batch AS (
        SELECT * FROM unnest($1::integer[], $2::integer[], $3::integer[])
            AS b (store_id, model_id, inventory)
    ), gone AS (
        DELETE FROM low_levels l USING batch b
        WHERE l.store_id = b.store_id AND l.model_id = b.model_id AND b.inventory > {LOW_LISTED}
    )
    INSERT INTO low_levels (store_id, model_id, inventory)
    SELECT store_id, model_id, inventory FROM batch WHERE inventory <= {LOW_LISTED}
    ON CONFLICT (store_id, model_id) DO UPDATE SET inventory = excluded.inventory
    WHERE low_levels.inventory <> excluded.inventory
"""


async def sync_low_levels(
    conn: asyncpg.Connection,
    store_ids: Sequence[int],
    model_ids: Sequence[int],
    inventories: Sequence[int],
) -> None:
    """List the given shelves' levels in low_levels if at or below LOW_LISTED, else unlist
    them. Three aligned sequences, one entry per shelf."""
    await conn.execute(_SYNC, store_ids, model_ids, inventories)

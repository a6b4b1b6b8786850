"""Storage, one interface over two backends: SQLite (bot/store/sqlite, the embedded default) and
PostgreSQL (bot/store/postgres). The single `writer` commits batches (`batch.Batch`) with the
alert `processor`'s rows; people read through `reads.Reads`; each backend has its own SQL."""

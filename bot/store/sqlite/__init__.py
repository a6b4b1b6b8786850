"""SQLite storage (DATABASE_PATH, the default): the store (`backend.SqliteBackend`: the writer's
transaction in `write`, people's reads in `reads/`, the sender's records in `deliveries`),
connecting with the bot's pragmas and checkpointer, the schema and its migrations."""

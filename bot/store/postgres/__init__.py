"""PostgreSQL storage (DATABASE_URL=postgresql://...): the store (`backend.PostgresBackend`: the
writer's transaction in `write`, people's reads in `reads`, the sender's records in
`deliveries`), connecting, schema and migrations, day partitions, and the parts for two bots
(leadership, handover, follow)."""

"""PostgreSQL storage (DATABASE_URL=postgresql://...): connecting, schema and migrations."""

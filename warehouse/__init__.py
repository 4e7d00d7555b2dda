"""The DuckDB warehouse: migrations, loading, cursors, quarantine, outbox and snapshot."""

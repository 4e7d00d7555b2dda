-- Results of the data-quality gate, one row per expectation per build.
CREATE TABLE ops.quality_checks (
    run_id           VARCHAR NOT NULL,
    table_name       VARCHAR NOT NULL,
    expectation      VARCHAR NOT NULL,
    column_name      VARCHAR NOT NULL,
    success          BOOLEAN NOT NULL,
    unexpected_count INTEGER NOT NULL,
    checked_at       TIMESTAMPTZ NOT NULL
);

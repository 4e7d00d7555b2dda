-- Schemas and the operational tables every run relies on.
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS marts;
CREATE SCHEMA IF NOT EXISTS ops;

-- High-water marks per source and scope; advanced in the same transaction as the data.
CREATE TABLE ops.cursors (
    source     VARCHAR NOT NULL,
    scope      VARCHAR NOT NULL,
    value      VARCHAR NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source, scope)
);

-- One row per pipeline step execution.
CREATE TABLE ops.runs (
    run_id      VARCHAR NOT NULL,
    step        VARCHAR NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    status      VARCHAR NOT NULL,
    stats       JSON,
    PRIMARY KEY (run_id, step)
);

-- Records that could not be used, with the reason; never silently dropped.
CREATE TABLE ops.quarantine (
    source         VARCHAR NOT NULL,
    record_ref     VARCHAR NOT NULL,
    field          VARCHAR,
    reason         VARCHAR NOT NULL,
    payload        JSON,
    first_seen_at  TIMESTAMPTZ NOT NULL,
    last_seen_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source, record_ref, reason)
);

-- Rendered deliveries waiting to be sent; the key makes each (kind, recipient, period) unique.
CREATE TABLE ops.outbox (
    delivery_key VARCHAR PRIMARY KEY,
    kind         VARCHAR NOT NULL,
    channel      VARCHAR NOT NULL,
    recipient    VARCHAR NOT NULL,
    period       VARCHAR NOT NULL,
    client_id    VARCHAR,
    payload      JSON NOT NULL,
    status       VARCHAR NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   VARCHAR,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

-- What actually left the building.
CREATE TABLE ops.sent_log (
    delivery_key VARCHAR PRIMARY KEY,
    kind         VARCHAR NOT NULL,
    channel      VARCHAR NOT NULL,
    recipient    VARCHAR NOT NULL,
    period       VARCHAR NOT NULL,
    sent_at      TIMESTAMPTZ NOT NULL,
    provider_ref VARCHAR,
    dry_run      BOOLEAN NOT NULL
);

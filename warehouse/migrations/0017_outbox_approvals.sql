-- Client emails wait for their account manager: an outbox row is a `draft` until it is
-- approved (then `pending`, and the sender takes it) or `rejected` (never sent); a draft
-- that fails its checks is `held` and never offered. One row per delivery records the
-- decision: the approval trail (who, when, how, and where in Airflow).
CREATE TABLE ops.approvals (
    delivery_key    VARCHAR PRIMARY KEY,
    kind            VARCHAR NOT NULL,
    period          VARCHAR NOT NULL,
    client_id       VARCHAR,
    account_manager VARCHAR NOT NULL,
    policy          VARCHAR NOT NULL,
    offered_at      TIMESTAMPTZ,
    decision        VARCHAR,
    decided_by      VARCHAR,
    decided_at      TIMESTAMPTZ,
    via             VARCHAR,
    approval_ref    VARCHAR
);

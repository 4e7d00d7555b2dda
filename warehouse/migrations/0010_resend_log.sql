-- Deliveries released for a deliberate re-send (python -m warehouse.outbox resend):
-- the sent-log row they had, kept here before the outbox entry is cleared.
CREATE TABLE ops.resend_log (
    delivery_key          VARCHAR NOT NULL,
    requested_at          TIMESTAMPTZ NOT NULL,
    reason                VARCHAR NOT NULL,
    previous_status       VARCHAR NOT NULL,
    previous_sent_at      TIMESTAMPTZ,
    previous_provider_ref VARCHAR,
    PRIMARY KEY (delivery_key, requested_at)
);

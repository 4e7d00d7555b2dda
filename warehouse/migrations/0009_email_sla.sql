-- Email SLA inputs written by build_signals before the models run: the party lists,
-- per-client SLA targets, each client's business-hours calendar as UTC intervals, and
-- the JWZ threading of every dated message. Targets now live in cfg_sla_targets.

ALTER TABLE staging.cfg_clients DROP COLUMN first_reply_target_minutes;

CREATE TABLE staging.cfg_vendor_domains (
    domain VARCHAR PRIMARY KEY
);

CREATE TABLE staging.cfg_freemail_domains (
    domain VARCHAR PRIMARY KEY
);

-- Target per client and metric, in business minutes, for a customer and for a prospect.
CREATE TABLE staging.cfg_sla_targets (
    client_id                VARCHAR NOT NULL,
    metric                   VARCHAR NOT NULL,
    customer_target_minutes  DOUBLE NOT NULL,
    prospect_target_minutes  DOUBLE NOT NULL,
    PRIMARY KEY (client_id, metric)
);

-- One row per open stretch of a client's SLA calendar (time zone, weekly hours, public
-- holidays and agency days off already applied), in UTC.
CREATE TABLE staging.cfg_business_hours (
    client_id VARCHAR NOT NULL,
    local_day DATE NOT NULL,
    opens_at  TIMESTAMPTZ NOT NULL,
    closes_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (client_id, local_day)
);

-- message_key → conversation (the JWZ thread root's Message-ID).
CREATE TABLE staging.email_threads (
    message_key     VARCHAR PRIMARY KEY,
    conversation_id VARCHAR NOT NULL
);

-- Account-manager alerts: each alert sent is recorded under its key (manager, client,
-- reason, the episode or wait it is about) in the same transaction as the DM that carries
-- it enters the outbox, so a rerun, retry or backfill finds it and sends nothing again.
CREATE TABLE IF NOT EXISTS ops.alert_log (
    alert_key VARCHAR PRIMARY KEY,      -- manager|client|reason|subject
    account_manager_id VARCHAR NOT NULL,
    client_id VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,            -- newly_at_risk, risk_up, still_at_risk, recovered, early_warning
    subject VARCHAR NOT NULL,           -- the week, episode or wait the alert is about
    delivery_key VARCHAR NOT NULL,      -- the ops.outbox entry (the DM) that carries it
    alerted_on DATE NOT NULL,           -- the run's agency-local day
    created_at TIMESTAMPTZ NOT NULL
);

-- A manager's answers to alerts: `snooze` (no risk alerts for the client until a date)
-- and `not_a_risk` (no risk alerts for the client's current at-risk episode). Kept for
-- good, with who and why: labels the backtest can read.
CREATE TABLE IF NOT EXISTS ops.alert_feedback (
    feedback_id VARCHAR PRIMARY KEY,
    client_id VARCHAR NOT NULL,
    action VARCHAR NOT NULL,            -- snooze | not_a_risk
    until_on DATE,                      -- snooze: last day muted
    episode_week DATE,                  -- not_a_risk: the at-risk episode's first week
    reason VARCHAR NOT NULL,
    recorded_by VARCHAR NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL
);

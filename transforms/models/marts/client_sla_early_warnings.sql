-- One row per client wait unanswered at as_of (core.fct_email_sla, status pending): who
-- wrote, when, the subject, and, on the client's business calendar
-- (core.client_business_hours), the instants the wait reaches the configured share
-- of its target (warn_at) and the target itself (breach_at).
WITH waits AS (
    SELECT
        s.client_id,
        s.metric,
        s.inbound_message_id,
        s.inbound_at,
        s.target_minutes,
        s.business_minutes,
        s.target_minutes * getvariable('alert_early_warning_share') AS warn_minutes,
        s.evaluated_at
    FROM core.fct_email_sla AS s
    WHERE s.status = 'pending'
),

spans AS (
    SELECT
        w.client_id,
        w.metric,
        w.inbound_message_id,
        h.closes_at AS span_end,
        sum(epoch(h.closes_at - greatest(h.opens_at, w.inbound_at)) / 60.0) OVER (
            PARTITION BY w.client_id, w.metric, w.inbound_message_id
            ORDER BY h.opens_at
            ROWS UNBOUNDED PRECEDING
        ) AS minutes_through
    FROM waits AS w
    INNER JOIN core.client_business_hours AS h
        ON h.client_id = w.client_id AND h.closes_at > w.inbound_at
),

reached AS (
    SELECT
        w.client_id,
        w.metric,
        w.inbound_message_id,
        min(CASE WHEN sp.minutes_through >= w.warn_minutes
            THEN sp.span_end - to_microseconds(
                CAST((sp.minutes_through - w.warn_minutes) * 60e6 AS BIGINT)
            ) END) AS warn_at,
        min(CASE WHEN sp.minutes_through >= w.target_minutes
            THEN sp.span_end - to_microseconds(
                CAST((sp.minutes_through - w.target_minutes) * 60e6 AS BIGINT)
            ) END) AS breach_at
    FROM waits AS w
    INNER JOIN spans AS sp USING (client_id, metric, inbound_message_id)
    GROUP BY ALL
)

SELECT
    w.client_id,
    c.client_name,
    c.account_manager_id,
    w.metric,
    w.inbound_message_id,
    m.from_addr,
    m.subject,
    w.inbound_at,
    timezone(getvariable('agency_timezone'), w.inbound_at) AS inbound_at_local,
    round(w.target_minutes / 60, 2) AS target_hours,
    round(w.business_minutes / 60, 2) AS business_hours_waited,
    round(w.business_minutes / w.target_minutes, 3) AS share_of_target,
    r.warn_at,
    r.breach_at,
    timezone(getvariable('agency_timezone'), r.breach_at) AS breach_at_local,
    w.business_minutes >= w.warn_minutes AS due_for_warning,
    w.evaluated_at
FROM waits AS w
INNER JOIN staging.cfg_clients AS c USING (client_id)
LEFT JOIN reached AS r USING (client_id, metric, inbound_message_id)
LEFT JOIN staging.email_messages AS m
    ON coalesce(m.message_id, m.message_key) = w.inbound_message_id
QUALIFY row_number() OVER (
    PARTITION BY w.client_id, w.metric, w.inbound_message_id ORDER BY m.sent_at
) = 1

-- One row per two-way exchange with a client up to as_of: a conversation in which both
-- sides wrote (human mail, client → agency and agency → client) within one agency-local
-- week, dated by its last message of that week; or a call or a held meeting from the CRM
-- (no-shows, cancelled and rescheduled meetings are not contact). One-way mail — a
-- newsletter, an unanswered agency email — is no exchange.
WITH mail_weeks AS (
    SELECT
        client_id,
        conversation_id,
        date_trunc('week', timezone(getvariable('agency_timezone'), sent_at)) AS week,
        max(sent_at) AS occurred_at,
        bool_or(direction = 'inbound') AS client_wrote,
        bool_or(direction = 'outbound') AS agency_wrote
    FROM staging.email_messages
    WHERE client_id IS NOT NULL
        AND direction IN ('inbound', 'outbound')
        AND sent_at <= getvariable('as_of')
    GROUP BY ALL
)

SELECT client_id, occurred_at, 'email' AS kind
FROM mail_weeks
WHERE client_wrote AND agency_wrote

UNION ALL

SELECT client_id, occurred_at, CASE engagement_type WHEN 'calls' THEN 'call' ELSE 'meeting' END
FROM staging.crm_engagements
WHERE client_id IS NOT NULL
    AND engagement_type IN ('calls', 'meetings')
    AND occurred_at <= getvariable('as_of')
    AND held

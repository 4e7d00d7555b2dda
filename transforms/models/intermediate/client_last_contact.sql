-- Per client: the last human exchange each way, the last call or meeting from the CRM,
-- and the days since the latest of them against the agreed contact cadence.
WITH mail AS (
    SELECT
        client_id,
        max(sent_at) FILTER (WHERE direction = 'inbound') AS last_inbound_at,
        max(sent_at) FILTER (WHERE direction = 'outbound') AS last_outbound_at
    FROM staging.email_messages
    WHERE client_id IS NOT NULL AND sent_at <= getvariable('as_of')
    GROUP BY client_id
),

crm AS (
    SELECT
        client_id,
        max(occurred_at) FILTER (WHERE engagement_type = 'meetings') AS last_meeting_at,
        max(occurred_at) FILTER (WHERE engagement_type = 'calls') AS last_call_at
    FROM staging.crm_engagements
    WHERE client_id IS NOT NULL AND occurred_at <= getvariable('as_of')
    GROUP BY client_id
),

combined AS (
    SELECT
        c.client_id,
        c.contact_cadence_days,
        m.last_inbound_at,
        m.last_outbound_at,
        r.last_meeting_at,
        r.last_call_at,
        greatest(m.last_inbound_at, m.last_outbound_at, r.last_meeting_at, r.last_call_at)
            AS last_contact_at
    FROM staging.cfg_clients AS c
    LEFT JOIN mail AS m USING (client_id)
    LEFT JOIN crm AS r USING (client_id)
)

SELECT
    *,
    date_diff('day', last_contact_at, getvariable('as_of')) AS days_since_last_contact
FROM combined

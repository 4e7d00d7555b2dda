-- First reply per conversation and client: the first inbound human message from the
-- client, the first human reply from the agency to that client after it, and the status
-- against the client's first-reply target.
-- Walking-skeleton clock: calendar minutes. Business-hours calendars replace it (issue 3).
WITH inbound AS (
    SELECT
        client_id,
        conversation_id,
        min(sent_at) AS inbound_at,
        arg_min(message_key, sent_at) AS inbound_message_key
    FROM staging.email_messages
    WHERE direction = 'inbound' AND sent_at <= getvariable('as_of')
    GROUP BY client_id, conversation_id
),

answered AS (
    SELECT
        i.client_id,
        i.conversation_id,
        i.inbound_at,
        i.inbound_message_key,
        min(o.sent_at) AS replied_at,
        arg_min(o.message_key, o.sent_at) AS reply_message_key,
        arg_min(o.from_addr, o.sent_at) AS responder
    FROM inbound AS i
    LEFT JOIN staging.email_messages AS o
        ON o.direction = 'outbound'
        AND o.conversation_id = i.conversation_id
        AND list_contains(o.recipient_client_ids, i.client_id)
        AND o.sent_at > i.inbound_at
        AND o.sent_at <= getvariable('as_of')
    GROUP BY ALL
)

SELECT
    a.client_id,
    a.conversation_id,
    a.inbound_message_key,
    a.inbound_at,
    a.reply_message_key,
    a.replied_at,
    a.responder,
    date_diff('minute', a.inbound_at, coalesce(a.replied_at, getvariable('as_of'))) AS calendar_minutes,
    c.first_reply_target_minutes AS target_minutes,
    CASE
        WHEN a.replied_at IS NOT NULL
            AND date_diff('minute', a.inbound_at, a.replied_at) <= c.first_reply_target_minutes
            THEN 'achieved'
        WHEN a.replied_at IS NOT NULL THEN 'breached'
        WHEN date_diff('minute', a.inbound_at, getvariable('as_of')) > c.first_reply_target_minutes
            THEN 'breached'
        ELSE 'pending'
    END AS status,
    getvariable('as_of') AS evaluated_at
FROM answered AS a
JOIN staging.cfg_clients AS c USING (client_id)

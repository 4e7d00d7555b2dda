-- One row per SLA measurement (the warehouse contract; see docs/data_dictionary.md).
-- Per conversation (JWZ thread) and client, messages split into segments where nothing
-- moved for `segment_gap_days`. Inbound messages between two agency replies form one
-- wait, measured from its oldest message that is not a closing one (thanks/ack). The
-- wait that opens a segment is `first_reply`; every wait after an agency message in the
-- segment is `next_reply` (so in a segment the agency opened, as in Zendesk's outbound
-- tickets, the client's answers wait for a next reply, not a first one). The wait ends at
-- the next human message from an agency address to that client (staging.email_messages
-- direction 'outbound': auto-replies and internal-only mail never end it).
-- Durations run to the reply, or to as_of while unanswered; business minutes are the
-- overlap with the client's calendar (core.client_business_hours), so time outside its
-- hours, on weekends, public holidays and agency days off does not count.
-- Target: the prospect one while dim_client says prospect, else the customer one.
WITH events AS (
    SELECT conversation_id, client_id, message_key, coalesce(message_id, message_key) AS ref,
        sent_at, 'in' AS side, is_closing, from_addr
    FROM staging.email_messages
    WHERE direction = 'inbound' AND sent_at <= getvariable('as_of')
    UNION ALL
    SELECT conversation_id, unnest(recipient_client_ids), message_key,
        coalesce(message_id, message_key), sent_at, 'out', false, from_addr
    FROM staging.email_messages
    WHERE direction = 'outbound' AND sent_at <= getvariable('as_of')
),

-- Two passes over each conversation in order: the first finds where a segment starts
-- (a gap since the previous message) and counts agency replies so far; the second numbers
-- the segments and takes the count at the segment's start, so `replies_before` is the
-- agency replies earlier in the same segment (this row included when it is one).
gaps AS (
    SELECT
        *,
        coalesce(
            sent_at - lag(sent_at) OVER conversation
                > to_seconds(CAST(getvariable('segment_gap_days') * 86400 AS BIGINT)),
            false
        ) AS starts_anew,
        count(*) FILTER (WHERE side = 'out') OVER (conversation ROWS UNBOUNDED PRECEDING)
            AS replies_so_far
    FROM events
    WINDOW conversation AS (PARTITION BY conversation_id, client_id ORDER BY sent_at, side, message_key)
),

counted AS (
    SELECT
        * EXCLUDE (replies_so_far),
        count(*) FILTER (WHERE starts_anew) OVER conversation AS segment_no,
        replies_so_far - coalesce(
            max(replies_so_far - (side = 'out')::INTEGER) FILTER (WHERE starts_anew)
                OVER conversation,
            0
        ) AS replies_before
    FROM gaps
    WINDOW conversation AS (
        PARTITION BY conversation_id, client_id ORDER BY sent_at, side, message_key
        ROWS UNBOUNDED PRECEDING
    )
),

waits AS (
    SELECT
        conversation_id,
        client_id,
        segment_no,
        replies_before AS wait_no,
        bool_and(is_closing) AS closing_only,
        coalesce(min(sent_at) FILTER (WHERE NOT is_closing), min(sent_at)) AS inbound_at,
        coalesce(arg_min(ref, sent_at) FILTER (WHERE NOT is_closing), arg_min(ref, sent_at))
            AS inbound_message_id,
        coalesce(
            arg_min(message_key, sent_at) FILTER (WHERE NOT is_closing),
            arg_min(message_key, sent_at)
        ) AS inbound_message_key
    FROM counted
    WHERE side = 'in'
    GROUP BY ALL
),

replied AS (
    SELECT
        w.*,
        CASE WHEN w.wait_no = 0 THEN 'first_reply' ELSE 'next_reply' END AS metric,
        r.ref AS reply_message_id,
        r.sent_at AS replied_at,
        r.from_addr AS responder,
        coalesce(r.sent_at, getvariable('as_of')) AS clock_end
    FROM waits AS w
    LEFT JOIN counted AS r
        ON r.side = 'out'
        AND r.conversation_id = w.conversation_id
        AND r.client_id = w.client_id
        AND r.segment_no = w.segment_no
        AND r.replies_before = w.wait_no + 1
),

-- Business time as a running total per client: the business time of a wait is the total
-- at its end minus the total at its start, two lookups (ASOF joins) whatever its length,
-- instead of one row per business day it spans.
hours AS (
    SELECT
        client_id,
        opens_at,
        epoch_us(closes_at) - epoch_us(opens_at) AS open_us,
        sum(epoch_us(closes_at) - epoch_us(opens_at)) OVER (
            PARTITION BY client_id ORDER BY opens_at ROWS UNBOUNDED PRECEDING
        ) - (epoch_us(closes_at) - epoch_us(opens_at)) AS open_us_before
    FROM core.client_business_hours
),

measured AS (
    SELECT
        m.*,
        greatest(
            coalesce(e.open_us_before
                + least(greatest(epoch_us(m.clock_end) - epoch_us(e.opens_at), 0), e.open_us), 0)
            - coalesce(s.open_us_before
                + least(greatest(epoch_us(m.inbound_at) - epoch_us(s.opens_at), 0), s.open_us), 0),
            0
        ) / 1000000.0 / 60.0 AS business_minutes
    FROM replied AS m
    ASOF LEFT JOIN hours AS s ON s.client_id = m.client_id AND m.inbound_at >= s.opens_at
    ASOF LEFT JOIN hours AS e ON e.client_id = m.client_id AND m.clock_end >= e.opens_at
),

targeted AS (
    SELECT
        m.*,
        CASE WHEN d.lifecycle_stage = 'prospect' THEN t.prospect_target_minutes
            ELSE t.customer_target_minutes END AS target_minutes
    FROM measured AS m
    JOIN staging.cfg_sla_targets AS t USING (client_id, metric)
    LEFT JOIN core.dim_client AS d USING (client_id)
),

mailboxes AS (  -- only the waits' messages: a sighting per mailbox that saw each
    SELECT s.message_key, min(s.mailbox) AS mailbox
    FROM raw.email_sightings AS s
    SEMI JOIN targeted AS t ON t.inbound_message_key = s.message_key
    GROUP BY s.message_key
)

SELECT
    t.client_id,
    b.mailbox,
    t.conversation_id,
    t.metric,
    t.inbound_message_id,
    t.inbound_at,
    t.reply_message_id,
    t.replied_at,
    t.responder,
    round(t.business_minutes, 2) AS business_minutes,
    round((epoch(t.clock_end) - epoch(t.inbound_at)) / 60.0, 2) AS calendar_minutes,
    t.target_minutes,
    CASE
        WHEN t.closing_only THEN 'no_reply_needed'
        WHEN t.business_minutes <= t.target_minutes AND t.replied_at IS NOT NULL THEN 'achieved'
        WHEN t.business_minutes > t.target_minutes THEN 'breached'
        ELSE 'pending'
    END AS status,
    getvariable('as_of') AS evaluated_at
FROM targeted AS t
LEFT JOIN mailboxes AS b ON b.message_key = t.inbound_message_key

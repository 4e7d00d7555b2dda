-- One row per named client contact (a report recipient or a listed contact address in
-- the config) who has left, as far as the mail on record shows at as_of: agency mail to
-- them bounced, and after that message they have written nothing (an out-of-office
-- counts as a sign of life) and no agency mail to them has gone through. A message sent
-- to several people bounces for one of them; the others clear themselves by writing or
-- by receiving mail that does not bounce. Mail sent in the last day before as_of is not
-- yet taken as delivered: its bounce may still be on its way.
-- The person the agency reports to leaving is when a relationship is most easily lost
-- (DOMAIN §4, §5): the successor has no history with the agency.
WITH named AS (
    SELECT address, client_id, bool_or(receives_reports) AS receives_reports
    FROM (
        SELECT address, client_id, true AS receives_reports FROM staging.cfg_report_recipients
        UNION ALL
        SELECT address, client_id, false FROM staging.cfg_client_addresses
    )
    GROUP BY address, client_id
),

agency_mail AS (
    SELECT message_id, sent_at, lower(unnest(list_concat(to_addrs, cc_addrs))) AS address
    FROM staging.email_messages
    WHERE sender_party = 'internal' AND NOT is_automated AND sent_at <= getvariable('as_of')
),

mail_to_named AS (
    SELECT n.client_id, n.address, n.receives_reports, m.message_id, m.sent_at
    FROM agency_mail AS m
    JOIN named AS n USING (address)
),

bounces AS (
    SELECT in_reply_to AS message_id, min(sent_at) AS bounced_at
    FROM staging.email_messages
    WHERE is_bounce AND in_reply_to IS NOT NULL AND sent_at <= getvariable('as_of')
    GROUP BY in_reply_to
),

signs_of_life AS (
    SELECT t.client_id, t.address, t.sent_at AS seen_at
    FROM mail_to_named AS t
    ANTI JOIN bounces AS b USING (message_id)
    WHERE t.sent_at <= getvariable('as_of') - INTERVAL 1 DAY

    UNION ALL

    SELECT n.client_id, n.address, m.sent_at
    FROM staging.email_messages AS m
    JOIN named AS n ON n.address = lower(m.from_addr)
    WHERE m.sent_at <= getvariable('as_of')
),

last_seen AS (
    SELECT client_id, address, max(seen_at) AS last_seen_at
    FROM signs_of_life
    GROUP BY client_id, address
)

SELECT
    t.client_id,
    t.address,
    any_value(t.receives_reports) AS receives_reports,
    any_value(s.last_seen_at) AS last_seen_at,
    min(b.bounced_at) AS left_noticed_at
FROM mail_to_named AS t
JOIN bounces AS b USING (message_id)
LEFT JOIN last_seen AS s USING (client_id, address)
WHERE s.last_seen_at IS NULL OR t.sent_at > s.last_seen_at
GROUP BY t.client_id, t.address

-- One row per named client contact (a report recipient or a listed contact address in
-- the config), with whether they have left as far as the mail on record shows at as_of:
-- agency mail to them bounced and since that message they have written nothing (an
-- out-of-office counts as a sign of life) and no agency mail to them has gone through.
-- The headers kept do not say which recipient a bounce was for, so a bounce is put down
-- to a person only when every other recipient of the bounced message has been heard from
-- since; until then it names nobody. Mail sent in the last day before as_of is not yet
-- taken as delivered: its bounce may still be on its way.
-- The person the agency reports to leaving is when a relationship is most easily lost
-- (docs/domain.md §4, §5): the successor has no history with the agency.
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

bounces AS (
    SELECT in_reply_to AS message_id, min(sent_at) AS bounced_at
    FROM staging.email_messages
    WHERE is_bounce AND in_reply_to IS NOT NULL AND sent_at <= getvariable('as_of')
    GROUP BY in_reply_to
),

bounced_to AS (
    SELECT DISTINCT m.message_id, m.sent_at, m.address, b.bounced_at
    FROM agency_mail AS m
    JOIN bounces AS b USING (message_id)
),

last_seen AS (
    SELECT address, max(seen_at) AS last_seen_at
    FROM (
        SELECT m.address, m.sent_at AS seen_at
        FROM agency_mail AS m
        ANTI JOIN bounces AS b USING (message_id)
        WHERE m.sent_at <= getvariable('as_of') - INTERVAL 1 DAY
            AND m.address IN (SELECT address FROM bounced_to)

        UNION ALL

        SELECT lower(from_addr), sent_at
        FROM staging.email_messages
        WHERE lower(from_addr) IN (SELECT address FROM bounced_to)
            AND sent_at <= getvariable('as_of')
    )
    GROUP BY address
),

-- each bounced message's recipients not heard from since it: the bounce is the one
-- left's only when they are alone
unexplained AS (
    SELECT t.*, s.last_seen_at
    FROM bounced_to AS t
    LEFT JOIN last_seen AS s USING (address)
    WHERE coalesce(s.last_seen_at <= t.sent_at, true)
),

attributed AS (
    SELECT
        any_value(address) AS address,
        any_value(last_seen_at) AS last_seen_at,
        any_value(bounced_at) AS bounced_at
    FROM unexplained
    GROUP BY message_id
    HAVING count(*) = 1
),

left_contacts AS (
    SELECT address, max(last_seen_at) AS last_seen_at, min(bounced_at) AS left_noticed_at
    FROM attributed
    GROUP BY address
)

SELECT
    n.client_id,
    n.address,
    n.receives_reports,
    l.left_noticed_at,
    l.last_seen_at
FROM named AS n
LEFT JOIN left_contacts AS l USING (address)

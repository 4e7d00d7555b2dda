-- Per client, first replies to conversations opened in the 28 days before as_of:
-- counts by status, compliance = achieved / (achieved + breached), median and P90 hours.
SELECT
    c.client_id,
    count(f.conversation_id) AS conversations,
    count(f.conversation_id) FILTER (WHERE f.status = 'achieved') AS achieved,
    count(f.conversation_id) FILTER (WHERE f.status = 'breached') AS breached,
    count(f.conversation_id) FILTER (WHERE f.status = 'pending') AS pending,
    count(f.conversation_id) FILTER (WHERE f.status IN ('achieved', 'breached'))  AS decided,
    CASE WHEN count(f.conversation_id) FILTER (WHERE f.status IN ('achieved', 'breached')) > 0
        THEN count(f.conversation_id) FILTER (WHERE f.status = 'achieved')
            / count(f.conversation_id) FILTER (WHERE f.status IN ('achieved', 'breached'))
    END AS compliance,
    round(median(f.calendar_minutes) FILTER (WHERE f.replied_at IS NOT NULL) / 60.0, 1)
        AS median_first_reply_hours,
    round(quantile_cont(f.calendar_minutes, 0.9) FILTER (WHERE f.replied_at IS NOT NULL) / 60.0, 1)
        AS p90_first_reply_hours
FROM staging.cfg_clients AS c
LEFT JOIN marts.email_first_replies AS f
    ON f.client_id = c.client_id
    AND f.inbound_at > getvariable('as_of') - INTERVAL 28 DAY
GROUP BY c.client_id

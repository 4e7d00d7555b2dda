-- Per client, week (Monday-based, on the agency's calendar, by when the wait began) and
-- metric: measurements by status, compliance = achieved / (achieved + breached), and
-- median / P90 business minutes of the waits that got a reply. Unanswered waits stay
-- in the counts (pending or breached), never dropped.
SELECT
    client_id,
    CAST(date_trunc('week', timezone(getvariable('agency_timezone'), inbound_at)) AS DATE)
        AS week_start,
    strftime(date_trunc('week', timezone(getvariable('agency_timezone'), inbound_at)), '%G-W%V')
        AS iso_week,
    metric,
    count(*) AS measurements,
    count(*) FILTER (WHERE status = 'achieved') AS achieved,
    count(*) FILTER (WHERE status = 'breached') AS breached,
    count(*) FILTER (WHERE status = 'pending') AS pending,
    count(*) FILTER (WHERE status = 'no_reply_needed') AS no_reply_needed,
    count(*) FILTER (WHERE status = 'achieved')
        / nullif(count(*) FILTER (WHERE status IN ('achieved', 'breached')), 0) AS compliance,
    median(business_minutes) FILTER (WHERE replied_at IS NOT NULL AND status <> 'no_reply_needed')
        AS median_business_minutes,
    quantile_cont(business_minutes, 0.9)
        FILTER (WHERE replied_at IS NOT NULL AND status <> 'no_reply_needed')
        AS p90_business_minutes
FROM marts.fct_email_sla
GROUP BY ALL

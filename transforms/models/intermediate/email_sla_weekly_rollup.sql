-- The weekly email SLA figures, computed once for both grains: per client (`grain =
-- 'client'`) and over all clients (`grain = 'portfolio'`), per agency-local week (Monday
-- based, by when the wait began) and metric. marts.client_sla_weekly and
-- marts.portfolio_sla_weekly select their grain from here, so the two can never disagree
-- on how compliance, median or P90 is counted.
-- compliance = achieved / (achieved + breached); median and P90 are of the business
-- minutes of waits that got a reply. Unanswered waits stay in the counts (pending or
-- breached), never dropped.
WITH measured AS (
    SELECT
        *,
        CAST(date_trunc('week', timezone(getvariable('agency_timezone'), inbound_at)) AS DATE)
            AS week_start
    FROM core.fct_email_sla
)

SELECT
    CASE WHEN grouping(client_id) = 0 THEN 'client' ELSE 'portfolio' END AS grain,
    client_id,
    week_start,
    strftime(week_start, '%G-W%V') AS iso_week,
    metric,
    count(*) AS measurements,
    count(*) FILTER (WHERE status = 'achieved') AS achieved,
    count(*) FILTER (WHERE status = 'breached') AS breached,
    count(*) FILTER (WHERE status = 'pending') AS pending,
    count(*) FILTER (WHERE status = 'no_reply_needed') AS no_reply_needed,
    count(*) FILTER (WHERE status IN ('achieved', 'breached')) AS decided,
    count(*) FILTER (WHERE status = 'achieved')
        / nullif(count(*) FILTER (WHERE status IN ('achieved', 'breached')), 0) AS compliance,
    median(business_minutes) FILTER (WHERE replied_at IS NOT NULL AND status <> 'no_reply_needed')
        AS median_business_minutes,
    quantile_cont(business_minutes, 0.9)
        FILTER (WHERE replied_at IS NOT NULL AND status <> 'no_reply_needed')
        AS p90_business_minutes
FROM measured
GROUP BY GROUPING SETS ((client_id, week_start, metric), (week_start, metric))

-- Reply compliance, the one place it is counted: per client (grain 'client') and over all
-- clients (grain 'portfolio', client_id NULL), per metric and period, for every reader:
-- * period 'week': the client's own calendar week (Monday-based, by when the wait began),
--   the week the client's status email, the digest and the manager portfolio report;
-- * period 'month': the client's calendar month (the monthly report);
-- * period 'days': the waits that began in the last `window_days` before as_of, for each
--   window a reader asks for (signals.at_risk.window_days for the client health figures,
--   signals.risk.reply_window_days for the churn score's responsiveness factors).
-- compliance = achieved / (achieved + breached); median and P90 are of the business minutes
-- of waits that got a reply. Unanswered waits stay in the counts (pending or breached),
-- never dropped. A portfolio row's median and P90 are over every client's waits (they do
-- not add up from client rows); its counts are the sums of the client rows.
WITH waits AS (
    SELECT f.*, CAST(timezone(c.timezone, f.inbound_at) AS DATE) AS local_day
    FROM core.fct_email_sla AS f
    JOIN staging.cfg_clients AS c USING (client_id)
),

windows AS (
    SELECT DISTINCT CAST(unnest([
        getvariable('health_window_days'), getvariable('risk_reply_window_days')
    ]) AS INTEGER) AS window_days
),

periods AS (
    SELECT *, 'week' AS period, CAST(date_trunc('week', local_day) AS DATE) AS period_start,
        7 AS window_days
    FROM waits
    UNION ALL
    SELECT *, 'month', CAST(date_trunc('month', local_day) AS DATE), NULL
    FROM waits
    UNION ALL
    SELECT w.*, 'days', CAST(timezone(getvariable('agency_timezone'), getvariable('as_of')) AS DATE),
        d.window_days
    FROM waits AS w
    JOIN windows AS d ON w.inbound_at > getvariable('as_of') - to_days(d.window_days)
)

SELECT
    CASE WHEN grouping(client_id) = 0 THEN 'client' ELSE 'portfolio' END AS grain,
    client_id,
    period,
    period_start,
    window_days,
    strftime(period_start, '%G-W%V') AS iso_week,
    metric,
    count(*) AS measurements,
    count(*) FILTER (WHERE status = 'achieved') AS achieved,
    count(*) FILTER (WHERE status = 'breached') AS breached,
    count(*) FILTER (WHERE status = 'pending') AS pending,
    count(*) FILTER (WHERE status = 'no_reply_needed') AS no_reply_needed,
    count(*) FILTER (WHERE status IN ('achieved', 'breached')) AS decided,
    count(*) FILTER (WHERE status = 'achieved')
        / nullif(count(*) FILTER (WHERE status IN ('achieved', 'breached')), 0) AS compliance,
    count(*) FILTER (WHERE status = 'breached' AND replied_at IS NULL) AS unanswered_past_target,
    median(business_minutes) FILTER (WHERE replied_at IS NOT NULL AND status <> 'no_reply_needed')
        AS median_business_minutes,
    quantile_cont(business_minutes, 0.9)
        FILTER (WHERE replied_at IS NOT NULL AND status <> 'no_reply_needed')
        AS p90_business_minutes
FROM periods
GROUP BY GROUPING SETS (
    (client_id, period, period_start, window_days, metric),
    (period, period_start, window_days, metric)
)

-- One row per week of the risk history: the leadership digest's headline figures for that
-- week and their change against the week before (NULL without a row then). Risk counts
-- are that week's rows of marts.client_risk_weekly, each computed as of its own build:
-- only what was known then. Email SLA (marts.portfolio_sla_weekly) and on-time delivery
-- (core.client_delivery_weekly) are of the full week before (`reported_week_start`), as
-- that week's digest reports them.
WITH risk AS (
    SELECT
        week_start,
        count(*) FILTER (WHERE status = 'active') AS active_clients,
        count(*) FILTER (WHERE at_risk) AS at_risk_clients,
        count(*) FILTER (WHERE band = 'watch') AS watch_clients,
        count(*) FILTER (
            WHERE status = 'lost'
                AND lost_on >= CAST(date_trunc('month', week_start) AS DATE)
        ) AS lost_this_month
    FROM marts.client_risk_weekly
    GROUP BY week_start
),

sla AS (
    SELECT
        week_start,
        max(compliance) FILTER (WHERE metric = 'first_reply') AS first_reply_compliance,
        max(decided) FILTER (WHERE metric = 'first_reply') AS first_reply_decided,
        max(compliance) FILTER (WHERE metric = 'next_reply') AS next_reply_compliance,
        max(decided) FILTER (WHERE metric = 'next_reply') AS next_reply_decided
    FROM marts.portfolio_sla_weekly
    GROUP BY week_start
),

delivery AS (
    SELECT
        week_start,
        CAST(sum(dated_completed_tasks) AS BIGINT) AS dated_completed_tasks,
        sum(on_time_tasks) / nullif(sum(dated_completed_tasks), 0) AS on_time_rate
    FROM core.client_delivery_weekly
    GROUP BY week_start
),

weeks AS (
    SELECT
        r.week_start,
        r.week_start - 7 AS reported_week_start,
        r.active_clients,
        r.at_risk_clients,
        r.watch_clients,
        r.lost_this_month,
        s.first_reply_compliance,
        coalesce(s.first_reply_decided, 0) AS first_reply_decided,
        s.next_reply_compliance,
        coalesce(s.next_reply_decided, 0) AS next_reply_decided,
        d.on_time_rate,
        coalesce(d.dated_completed_tasks, 0) AS dated_completed_tasks
    FROM risk AS r
    LEFT JOIN sla AS s ON s.week_start = r.week_start - 7
    LEFT JOIN delivery AS d ON d.week_start = r.week_start - 7
)

SELECT
    w.week_start,
    strftime(w.week_start, '%G-W%V') AS iso_week,
    w.reported_week_start,
    strftime(w.reported_week_start, '%G-W%V') AS reported_iso_week,
    w.active_clients,
    w.at_risk_clients,
    w.watch_clients,
    w.lost_this_month,
    w.first_reply_compliance,
    w.first_reply_decided,
    w.next_reply_compliance,
    w.next_reply_decided,
    w.on_time_rate,
    w.dated_completed_tasks,
    w.at_risk_clients - p.at_risk_clients AS at_risk_change_1w,
    w.lost_this_month - p.lost_this_month AS lost_this_month_change_1w,
    round(w.first_reply_compliance - p.first_reply_compliance, 4) AS first_reply_change_1w,
    round(w.next_reply_compliance - p.next_reply_compliance, 4) AS next_reply_change_1w,
    round(w.on_time_rate - p.on_time_rate, 4) AS on_time_change_1w
FROM weeks AS w
LEFT JOIN weeks AS p ON p.week_start = w.week_start - 7

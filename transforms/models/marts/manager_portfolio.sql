-- Per account manager, the latest week of the risk history (docs/domain.md §7: portfolio review
-- also measures the managers), for both the leadership digest and the manager's portfolio
-- DM: their active clients, how many are at risk (the churn score's band) or lost lately,
-- and over their active clients in the full week before (`reported_week_start`, each
-- client's own calendar week) reply compliance (intermediate.reply_compliance) and the
-- on-time task rate (core.client_delivery_weekly), beside the agency's for that week.
WITH this_week AS (
    SELECT r.*, c.account_manager_id
    FROM marts.client_risk_weekly AS r
    JOIN staging.cfg_clients AS c USING (client_id)
    WHERE r.week_start = (SELECT max(week_start) FROM marts.client_risk_weekly)
),

reported AS (
    SELECT max(week_start) - 7 AS reported_week_start FROM this_week
),

risk AS (
    SELECT
        account_manager_id,
        count(*) FILTER (WHERE status = 'active') AS active_clients,
        count(*) FILTER (WHERE at_risk) AS at_risk_clients,
        count(*) FILTER (WHERE lost_recently) AS recently_lost_clients
    FROM this_week
    GROUP BY account_manager_id
),

sla AS (
    SELECT
        w.account_manager_id,
        CAST(sum(s.achieved) FILTER (WHERE s.metric = 'first_reply') AS BIGINT) AS first_reply_achieved,
        CAST(sum(s.decided) FILTER (WHERE s.metric = 'first_reply') AS BIGINT) AS first_reply_decided,
        CAST(sum(s.achieved) FILTER (WHERE s.metric = 'next_reply') AS BIGINT) AS next_reply_achieved,
        CAST(sum(s.decided) FILTER (WHERE s.metric = 'next_reply') AS BIGINT) AS next_reply_decided
    FROM this_week AS w
    CROSS JOIN reported AS p
    JOIN intermediate.reply_compliance AS s
        ON s.client_id = w.client_id AND s.grain = 'client' AND s.period = 'week'
        AND s.period_start = p.reported_week_start
    WHERE w.status = 'active'
    GROUP BY w.account_manager_id
),

delivery AS (
    SELECT
        w.account_manager_id,
        CAST(sum(d.on_time_tasks) AS BIGINT) AS on_time_tasks,
        CAST(sum(d.dated_completed_tasks) AS BIGINT) AS finished_tasks
    FROM this_week AS w
    CROSS JOIN reported AS p
    JOIN core.client_delivery_weekly AS d
        ON d.client_id = w.client_id AND d.week_start = p.reported_week_start
    WHERE w.status = 'active'
    GROUP BY w.account_manager_id
),

agency AS (
    SELECT
        any_value(s.compliance) FILTER (WHERE s.metric = 'first_reply')
            AS agency_first_reply_compliance,
        any_value(s.compliance) FILTER (WHERE s.metric = 'next_reply')
            AS agency_next_reply_compliance
    FROM reported AS p
    LEFT JOIN intermediate.reply_compliance AS s
        ON s.grain = 'portfolio' AND s.period = 'week' AND s.period_start = p.reported_week_start
),

agency_delivery AS (
    SELECT sum(d.on_time_tasks) / nullif(sum(d.dated_completed_tasks), 0) AS agency_on_time_rate
    FROM reported AS p
    LEFT JOIN core.client_delivery_weekly AS d ON d.week_start = p.reported_week_start
)

SELECT
    m.account_manager_id,
    m.account_manager_name,
    (SELECT max(week_start) FROM this_week) AS week_start,
    (SELECT reported_week_start FROM reported) AS reported_week_start,
    coalesce(r.active_clients, 0) AS active_clients,
    coalesce(r.at_risk_clients, 0) AS at_risk_clients,
    coalesce(r.recently_lost_clients, 0) AS recently_lost_clients,
    s.first_reply_achieved / nullif(s.first_reply_decided, 0) AS first_reply_compliance,
    coalesce(s.first_reply_decided, 0) AS first_reply_decided,
    s.next_reply_achieved / nullif(s.next_reply_decided, 0) AS next_reply_compliance,
    coalesce(s.next_reply_decided, 0) AS next_reply_decided,
    a.agency_first_reply_compliance,
    a.agency_next_reply_compliance,
    d.on_time_tasks / nullif(d.finished_tasks, 0) AS on_time_rate,
    coalesce(d.finished_tasks, 0) AS finished_tasks,
    ad.agency_on_time_rate,
    getvariable('as_of') AS as_of
FROM staging.cfg_account_managers AS m
CROSS JOIN agency AS a
CROSS JOIN agency_delivery AS ad
LEFT JOIN risk AS r USING (account_manager_id)
LEFT JOIN sla AS s USING (account_manager_id)
LEFT JOIN delivery AS d USING (account_manager_id)

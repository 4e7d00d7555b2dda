-- One row per account manager: their active clients and at-risk clients in the latest
-- risk week, and over the last health_window_days before as_of their portfolio's first-
-- and next-reply SLA compliance (achieved of decided waits) and on-time task rate
-- (finished on time of finished with a due date), next to the same figures agency-wide.
WITH window_start AS (
    SELECT getvariable('as_of') - to_days(CAST(getvariable('health_window_days') AS INTEGER))
        AS since
),

sla AS (
    SELECT
        s.client_id,
        count(*) FILTER (WHERE s.status = 'achieved') AS achieved,
        count(*) FILTER (WHERE s.status IN ('achieved', 'breached')) AS decided
    FROM core.fct_email_sla AS s, window_start AS w
    WHERE s.inbound_at >= w.since
    GROUP BY s.client_id
),

delivery AS (
    SELECT
        t.client_id,
        count(*) FILTER (WHERE t.on_time) AS on_time,
        count(*) FILTER (WHERE t.on_time IS NOT NULL) AS finished
    FROM core.fct_task_delivery AS t, window_start AS w
    WHERE t.completed_at >= w.since
    GROUP BY t.client_id
),

latest AS (
    SELECT client_id, status, at_risk
    FROM marts.client_risk_weekly
    WHERE week_start = (SELECT max(week_start) FROM marts.client_risk_weekly)
),

per_client AS (
    SELECT
        c.account_manager_id,
        c.client_id,
        coalesce(l.status, 'active') = 'active' AS active,
        coalesce(l.at_risk, false) AS at_risk,
        coalesce(s.achieved, 0) AS achieved,
        coalesce(s.decided, 0) AS decided,
        coalesce(d.on_time, 0) AS on_time,
        coalesce(d.finished, 0) AS finished
    FROM staging.cfg_clients AS c
    LEFT JOIN latest AS l USING (client_id)
    LEFT JOIN sla AS s USING (client_id)
    LEFT JOIN delivery AS d USING (client_id)
),

agency AS (
    SELECT
        sum(achieved) / nullif(sum(decided), 0) AS agency_sla_compliance,
        sum(on_time) / nullif(sum(finished), 0) AS agency_on_time_rate
    FROM per_client
)

SELECT
    p.account_manager_id,
    count(*) FILTER (WHERE p.active) AS active_clients,
    count(*) FILTER (WHERE p.active AND p.at_risk) AS at_risk_clients,
    sum(p.decided) AS decided_waits,
    round(sum(p.achieved) / nullif(sum(p.decided), 0), 3) AS sla_compliance,
    round(any_value(a.agency_sla_compliance), 3) AS agency_sla_compliance,
    sum(p.finished) AS finished_tasks,
    round(sum(p.on_time) / nullif(sum(p.finished), 0), 3) AS on_time_rate,
    round(any_value(a.agency_on_time_rate), 3) AS agency_on_time_rate,
    getvariable('as_of') AS as_of
FROM per_client AS p
CROSS JOIN agency AS a
GROUP BY p.account_manager_id

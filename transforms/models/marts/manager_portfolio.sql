-- Per account manager, the latest week of the risk history (docs/domain.md §7: portfolio review
-- also measures the managers): their active clients, how many are at risk or lost lately,
-- and the email SLA over their active clients in the full week before
-- (marts.client_sla_weekly), as the digest reports it.
WITH this_week AS (
    SELECT r.*, c.account_manager_id
    FROM marts.client_risk_weekly AS r
    JOIN staging.cfg_clients AS c USING (client_id)
    WHERE r.week_start = (SELECT max(week_start) FROM marts.client_risk_weekly)
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
        sum(s.decided) FILTER (WHERE s.metric = 'next_reply') AS next_reply_decided
    FROM this_week AS w
    JOIN marts.client_sla_weekly AS s
        ON s.client_id = w.client_id AND s.week_start = w.week_start - 7
    WHERE w.status = 'active'
    GROUP BY w.account_manager_id
)

SELECT
    m.account_manager_id,
    m.account_manager_name,
    (SELECT max(week_start) FROM this_week) AS week_start,
    coalesce(r.active_clients, 0) AS active_clients,
    coalesce(r.at_risk_clients, 0) AS at_risk_clients,
    coalesce(r.recently_lost_clients, 0) AS recently_lost_clients,
    s.first_reply_achieved / nullif(s.first_reply_decided, 0) AS first_reply_compliance,
    coalesce(s.first_reply_decided, 0) AS first_reply_decided,
    s.next_reply_achieved / nullif(s.next_reply_decided, 0) AS next_reply_compliance,
    coalesce(s.next_reply_decided, 0) AS next_reply_decided
FROM staging.cfg_account_managers AS m
LEFT JOIN risk AS r USING (account_manager_id)
LEFT JOIN sla AS s USING (account_manager_id)

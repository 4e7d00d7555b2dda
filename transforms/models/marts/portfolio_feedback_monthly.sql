-- The monthly leadership view of client feedback (docs/domain.md §5: NPS where collected;
-- §7: leadership reviews the portfolio and its managers): for each completed month on the
-- agency's calendar since the first NPS answer, for the agency and for each account manager
-- (their clients, as configured now), as known at the month's end
-- (intermediate.client_nps_voices: one voice a person, people who had left by then out):
-- * the month's survey window: the voices whose latest answer was given in the month, as
--   promoters (9–10), passives (7–8) and detractors (0–6), and NPS = (promoters −
--   detractors) / answers × 100, rounded; NULL, not 0, in a month without answers;
-- * the change against the previous survey window: the latest earlier month with answers;
-- * the clients whose latest answer as of the month's end (any voice of the year before)
--   is a detractor's, named, latest first.
WITH months AS (
    SELECT CAST(g.month AS DATE) AS month_start
    FROM generate_series(
        (SELECT min(month_start) FROM intermediate.client_nps_voices WHERE period = 'month'),
        date_trunc('month', timezone(getvariable('agency_timezone'), getvariable('as_of')))
            - INTERVAL 1 MONTH,
        INTERVAL 1 MONTH
    ) AS g (month)
),

voices AS (
    SELECT
        v.month_start,
        v.client_id,
        v.response_id,
        v.score,
        v.response_group,
        v.submitted_at,
        CAST(timezone(getvariable('agency_timezone'), v.submitted_at) AS DATE) AS answered_on,
        c.client_name,
        c.account_manager_id
    FROM intermediate.client_nps_voices AS v
    JOIN staging.cfg_clients AS c USING (client_id)
    WHERE v.period = 'month'
),

answers AS (
    SELECT
        month_start,
        CASE WHEN grouping(account_manager_id) = 1 THEN 'agency' ELSE 'account_manager' END
            AS scope,
        account_manager_id,
        count(*) AS answers,
        count(*) FILTER (WHERE response_group = 'promoter') AS promoters,
        count(*) FILTER (WHERE response_group = 'passive') AS passives,
        count(*) FILTER (WHERE response_group = 'detractor') AS detractors
    FROM voices
    WHERE answered_on >= month_start
    GROUP BY GROUPING SETS ((month_start), (month_start, account_manager_id))
),

latest AS (
    SELECT *
    FROM voices
    QUALIFY row_number() OVER (
        PARTITION BY month_start, client_id ORDER BY submitted_at DESC, response_id DESC
    ) = 1
),

detractor_clients AS (
    SELECT
        month_start,
        CASE WHEN grouping(account_manager_id) = 1 THEN 'agency' ELSE 'account_manager' END
            AS scope,
        account_manager_id,
        count(*) AS detractor_client_count,
        list(
            {'client_id': client_id, 'client_name': client_name, 'score': score,
             'answered_on': answered_on}
            ORDER BY submitted_at DESC, client_name
        ) AS detractor_clients
    FROM latest
    WHERE response_group = 'detractor'
    GROUP BY GROUPING SETS ((month_start), (month_start, account_manager_id))
),

scopes AS (
    SELECT 'agency' AS scope, CAST(NULL AS VARCHAR) AS account_manager_id,
        CAST(NULL AS VARCHAR) AS account_manager_name
    UNION ALL
    SELECT 'account_manager', account_manager_id, account_manager_name
    FROM staging.cfg_account_managers
),

figures AS (
    SELECT
        m.month_start,
        s.scope,
        s.account_manager_id,
        s.account_manager_name,
        coalesce(a.answers, 0) AS answers,
        coalesce(a.promoters, 0) AS promoters,
        coalesce(a.passives, 0) AS passives,
        coalesce(a.detractors, 0) AS detractors,
        CAST(round(100.0 * (a.promoters - a.detractors) / a.answers) AS INTEGER) AS nps,
        coalesce(d.detractor_client_count, 0) AS detractor_client_count,
        coalesce(d.detractor_clients, []) AS detractor_clients
    FROM months AS m
    CROSS JOIN scopes AS s
    LEFT JOIN answers AS a
        ON a.month_start = m.month_start AND a.scope = s.scope
        AND a.account_manager_id IS NOT DISTINCT FROM s.account_manager_id
    LEFT JOIN detractor_clients AS d
        ON d.month_start = m.month_start AND d.scope = s.scope
        AND d.account_manager_id IS NOT DISTINCT FROM s.account_manager_id
),

windows AS (
    SELECT
        *,
        last_value(CASE WHEN answers > 0 THEN month_start END IGNORE NULLS) OVER earlier
            AS previous_month_start,
        last_value(nps IGNORE NULLS) OVER earlier AS previous_nps
    FROM figures
    WINDOW earlier AS (
        PARTITION BY scope, account_manager_id ORDER BY month_start
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    )
)

SELECT
    month_start,
    scope,
    account_manager_id,
    account_manager_name,
    answers,
    promoters,
    passives,
    detractors,
    nps,
    previous_month_start,
    previous_nps,
    nps - previous_nps AS nps_change,
    detractor_client_count,
    detractor_clients
FROM windows

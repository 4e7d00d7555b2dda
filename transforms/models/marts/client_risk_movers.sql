-- The latest week's movers: active clients whose risk score changed against the week
-- before (marts.client_risk_weekly.score_change_1w), ranked by the size of the change
-- within each direction, each with the factor whose contribution moved most the same way
-- and that factor's evidence this week.
WITH this_week AS (
    SELECT max(week_start) AS week_start FROM marts.client_risk_weekly
),

moved AS (
    SELECT r.client_id, r.week_start, r.score, r.score_change_1w, r.factors
    FROM marts.client_risk_weekly AS r
    WHERE r.week_start = (SELECT week_start FROM this_week)
        AND r.status = 'active' AND r.score_change_1w <> 0
),

now_factors AS (
    SELECT client_id, f.factor, f.area, f.evidence, coalesce(f.contribution, 0) AS contribution
    FROM (SELECT client_id, unnest(factors) AS f FROM moved)
),

before_factors AS (
    SELECT client_id, f.factor, coalesce(f.contribution, 0) AS contribution
    FROM (
        SELECT r.client_id, unnest(r.factors) AS f
        FROM marts.client_risk_weekly AS r
        WHERE r.week_start = (SELECT week_start FROM this_week) - 7
            AND r.client_id IN (SELECT client_id FROM moved)
    )
),

deltas AS (
    SELECT
        m.client_id,
        n.factor,
        n.area,
        n.evidence,
        round(n.contribution - coalesce(b.contribution, 0), 1) AS contribution_change,
        row_number() OVER (
            PARTITION BY m.client_id
            ORDER BY (n.contribution - coalesce(b.contribution, 0)) * sign(m.score_change_1w) DESC,
                n.factor
        ) AS pick
    FROM moved AS m
    JOIN now_factors AS n USING (client_id)
    LEFT JOIN before_factors AS b USING (client_id, factor)
)

SELECT
    m.client_id,
    c.client_name,
    c.account_manager_name,
    m.week_start,
    CASE WHEN m.score_change_1w > 0 THEN 'rose' ELSE 'fell' END AS direction,
    row_number() OVER (
        PARTITION BY sign(m.score_change_1w) ORDER BY abs(m.score_change_1w) DESC, c.client_name
    ) AS mover_rank,
    -- whole points, as the digest prints them, so that before → after (change) adds up
    CAST(round(m.score) AS INTEGER) AS score,
    CAST(round(m.score - m.score_change_1w) AS INTEGER) AS previous_score,
    CAST(round(m.score) - round(m.score - m.score_change_1w) AS INTEGER) AS score_change_1w,
    d.factor,
    d.area AS factor_area,
    d.evidence AS factor_evidence,
    d.contribution_change AS factor_contribution_change
FROM moved AS m
JOIN staging.cfg_clients AS c USING (client_id)
LEFT JOIN deltas AS d ON d.client_id = m.client_id AND d.pick = 1

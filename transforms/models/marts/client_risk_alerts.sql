-- One row per client and week of marts.client_risk_weekly: what changed for its account
-- manager (newly at risk, risk up past the configured step, still at risk, recovered),
-- since when the current at-risk episode runs, the factors that moved the score (before
-- -> after against the week named in compared_week), the factor that weighs most now,
-- and the week's trend arrow for the portfolio view. A critical factor at its mark
-- (staging.cfg_risk_factors.critical_at) leads both: it alone may have put the client at
-- risk, whatever its weight in the score.
WITH weeks AS (
    SELECT
        r.*,
        c.client_name,
        c.account_manager_id,
        lag(r.at_risk) OVER client_weeks AS was_at_risk,
        sum(CASE WHEN r.at_risk THEN 0 ELSE 1 END) OVER client_weeks AS calm_weeks_so_far
    FROM marts.client_risk_weekly AS r
    INNER JOIN staging.cfg_clients AS c USING (client_id)
    WINDOW client_weeks AS (PARTITION BY r.client_id ORDER BY r.week_start)
),

classified AS (
    SELECT
        *,
        CASE WHEN at_risk THEN min(CASE WHEN at_risk THEN week_start END) OVER (
            PARTITION BY client_id, calm_weeks_so_far
        ) END AS at_risk_since,
        CASE
            WHEN status <> 'active' THEN 'none'
            WHEN at_risk AND NOT coalesce(was_at_risk, false) THEN 'newly_at_risk'
            WHEN score_change_1w >= getvariable('alert_risk_up_step') THEN 'risk_up'
            WHEN at_risk THEN 'still_at_risk'
            WHEN was_at_risk THEN 'recovered'
            ELSE 'none'
        END AS change
    FROM weeks
),

compared AS (
    SELECT
        *,
        CASE WHEN change = 'still_at_risk' THEN at_risk_since - 7 ELSE week_start - 7 END
            AS compared_week
    FROM classified
),

-- each factor of each week next to the same factor in the compared week
factor_rows AS (
    SELECT
        k.client_id,
        k.week_start,
        u.f AS now_f,
        v.before_f,
        u.f.contribution - coalesce(v.before_f.contribution, 0) AS contribution_change,
        coalesce(u.f.score >= c.critical_at, false) AS critical,
        critical AND NOT coalesce(v.before_f.score >= c.critical_at, false) AS newly_critical
    FROM compared AS k
    CROSS JOIN unnest(k.factors) AS u (f)
    LEFT JOIN staging.cfg_risk_factors AS c ON c.factor = u.f.factor
    LEFT JOIN marts.client_risk_weekly AS b
        ON b.client_id = k.client_id AND b.week_start = k.compared_week
    LEFT JOIN LATERAL (
        SELECT f AS before_f FROM unnest(b.factors) AS w (f) WHERE f.factor = u.f.factor
    ) AS v ON true
),

moves AS (
    SELECT
        client_id,
        week_start,
        list(
            {
                'factor': now_f.factor,
                'area': now_f.area,
                'score_before': round(before_f.score, 1),
                'score_after': round(now_f.score, 1),
                'evidence_before': before_f.evidence,
                'evidence_after': now_f.evidence,
                'contribution_change': round(contribution_change, 1)
            }
            ORDER BY newly_critical DESC, contribution_change DESC, now_f.factor
        ) FILTER (WHERE contribution_change > 0 OR newly_critical) AS moved
    FROM factor_rows
    WHERE now_f.score IS NOT NULL
    GROUP BY client_id, week_start
),

main AS (
    SELECT
        client_id,
        week_start,
        -- ties (two factors adding the same points) by factor: the same one every build
        first(now_f.factor ORDER BY critical DESC, now_f.contribution DESC, now_f.factor)
            AS main_factor,
        first(now_f.evidence ORDER BY critical DESC, now_f.contribution DESC, now_f.factor)
            AS main_factor_evidence
    FROM factor_rows
    WHERE now_f.contribution > 0 OR critical
    GROUP BY client_id, week_start
)

SELECT
    k.client_id,
    k.client_name,
    k.account_manager_id,
    k.week_start,
    k.status,
    k.score,
    k.band,
    k.at_risk,
    k.score_change_1w,
    k.change,
    k.at_risk_since,
    k.compared_week,
    coalesce(mv.moved[1:3], []) AS moved_factors,
    m.main_factor,
    m.main_factor_evidence,
    CASE
        WHEN k.score_change_1w > getvariable('alert_trend_points') THEN 'up'
        WHEN k.score_change_1w < -getvariable('alert_trend_points') THEN 'down'
        ELSE 'flat'
    END AS trend
FROM compared AS k
LEFT JOIN moves AS mv USING (client_id, week_start)
LEFT JOIN main AS m USING (client_id, week_start)

-- One row per client and week of marts.client_risk_weekly: what changed for its account
-- manager (newly at risk, risk up past the configured step, still at risk, recovered),
-- since when the current at-risk episode runs, the factors that moved the score (before
-- -> after against the week named in compared_week), the factor that weighs most now,
-- and the week's trend arrow for the portfolio view.
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

moves AS (
    SELECT
        k.client_id,
        k.week_start,
        list(
            {
                'factor': now_f.factor,
                'area': now_f.area,
                'score_before': round(before_f.score, 1),
                'score_after': round(now_f.score, 1),
                'evidence_before': before_f.evidence,
                'evidence_after': now_f.evidence,
                'contribution_change': round(now_f.contribution - coalesce(before_f.contribution, 0), 1)
            }
            ORDER BY now_f.contribution - coalesce(before_f.contribution, 0) DESC, now_f.factor
        ) FILTER (WHERE now_f.contribution - coalesce(before_f.contribution, 0) > 0) AS moved
    FROM compared AS k
    CROSS JOIN unnest(k.factors) AS u (now_f)
    LEFT JOIN marts.client_risk_weekly AS b
        ON b.client_id = k.client_id AND b.week_start = k.compared_week
    LEFT JOIN LATERAL (
        SELECT f AS before_f FROM unnest(b.factors) AS v (f) WHERE f.factor = now_f.factor
    ) ON true
    WHERE now_f.score IS NOT NULL
    GROUP BY k.client_id, k.week_start
),

main AS (
    SELECT
        k.client_id,
        k.week_start,
        arg_max(f.factor, f.contribution) AS main_factor,
        arg_max(f.evidence, f.contribution) AS main_factor_evidence
    FROM compared AS k
    CROSS JOIN unnest(k.factors) AS u (f)
    WHERE f.contribution > 0
    GROUP BY k.client_id, k.week_start
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

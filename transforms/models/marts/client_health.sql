-- One row per client as of the build: the first signal of each area side by side
-- (intermediate.client_threshold_rule) and the churn score's band this week
-- (marts.client_risk_weekly, its latest week): "at risk" here is the score's, as
-- everywhere; the earlier threshold rule stays in the intermediate layer for the backtest.
WITH this_week AS (
    SELECT client_id, band, at_risk
    FROM marts.client_risk_weekly
    WHERE week_start = (SELECT max(week_start) FROM marts.client_risk_weekly)
)

SELECT
    r.* EXCLUDE (threshold_rule_breaches, threshold_rule_flagged, threshold_rule_severity, as_of),
    w.band AS risk_band,
    coalesce(w.at_risk, false) AS at_risk,
    r.as_of
FROM intermediate.client_threshold_rule AS r
LEFT JOIN this_week AS w USING (client_id)

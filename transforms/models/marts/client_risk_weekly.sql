-- One row per started client and agency-local week: the risk score as of that week's
-- build, its band, why, and how it moved against 1 and 4 weeks before (NULL without a
-- row then). From intermediate.client_risk_history, with the at-risk flag judged by the
-- week's calibrated threshold (intermediate.client_risk_calibrated: the alarm budget, on
-- the history before that week only): at risk when active and a critical factor is past
-- its mark or the score reaches `at_risk_at`; a client the default threshold put at risk
-- but the calibrated one does not is on watch.
SELECT
    h.client_id,
    h.week_start,
    h.as_of,
    h.status,
    h.started_on,
    h.lost_on,
    h.lost_recently,
    h.score,
    CASE
        WHEN h.band IS NULL THEN NULL
        WHEN c.critical OR h.score >= c.at_risk_at THEN 'at_risk'
        WHEN h.band = 'at_risk' THEN 'watch'
        ELSE h.band
    END AS band,
    h.status = 'active' AND h.score IS NOT NULL
        AND coalesce(c.critical OR h.score >= c.at_risk_at, false) AS at_risk,
    c.at_risk_at,
    c.calibrated,
    h.coverage,
    h.factors,
    h.reasons,
    round(h.score - w1.score, 1) AS score_change_1w,
    round(h.score - w4.score, 1) AS score_change_4w,
    h.threshold_rule_flagged
FROM intermediate.client_risk_history AS h
LEFT JOIN intermediate.client_risk_calibrated AS c USING (client_id, week_start)
LEFT JOIN intermediate.client_risk_history AS w1
    ON w1.client_id = h.client_id AND w1.week_start = h.week_start - 7
LEFT JOIN intermediate.client_risk_history AS w4
    ON w4.client_id = h.client_id AND w4.week_start = h.week_start - 28

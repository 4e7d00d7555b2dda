-- One row per started client and agency-local week: the risk score as of that week's
-- build, its band, why, and how it moved against 1 and 4 weeks before (NULL without a
-- row then). From intermediate.client_risk_history.
SELECT
    h.client_id,
    h.week_start,
    h.as_of,
    h.status,
    h.started_on,
    h.lost_on,
    h.lost_recently,
    h.score,
    h.band,
    h.at_risk,
    h.coverage,
    h.factors,
    h.reasons,
    round(h.score - w1.score, 1) AS score_change_1w,
    round(h.score - w4.score, 1) AS score_change_4w,
    h.rule_at_risk
FROM intermediate.client_risk_history AS h
LEFT JOIN intermediate.client_risk_history AS w1
    ON w1.client_id = h.client_id AND w1.week_start = h.week_start - 7
LEFT JOIN intermediate.client_risk_history AS w4
    ON w4.client_id = h.client_id AND w4.week_start = h.week_start - 28

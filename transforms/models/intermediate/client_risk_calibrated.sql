-- One row per client and week of the risk history: the at-risk threshold that week is
-- judged by, calibrated on the agency's own history before it (docs/risk_detection.md):
-- * the alarm budget `risk_false_alarm_budget` is flagged weeks per retained client per
--   year; the clients retained as of week W are those still active in W;
-- * their active weeks in the 52 weeks before W are scored as the flag would see them
--   (a critical factor past its mark counts as 100), and W's threshold is the
--   (1 - budget / 52) quantile of those scores: no more than the budget's share of the
--   retained clients' past weeks lie above it;
-- * only weeks before W count, so a week is never judged by a threshold learned from its
--   future (a backfill replays the calibration as of each week); with fewer than
--   `risk_calibration_min_weeks` weeks of history before W the default `risk_at_risk_at`
--   holds.
WITH critical AS (
    SELECT DISTINCT h.client_id, h.week_start
    FROM (SELECT client_id, week_start, unnest(factors) AS f
        FROM intermediate.client_risk_history) AS h
    JOIN staging.cfg_risk_factors AS c ON c.factor = h.f.factor
    WHERE h.f.score >= c.critical_at
),

judged AS (
    SELECT
        h.client_id,
        h.week_start,
        h.status,
        h.score,
        k.client_id IS NOT NULL AS critical,
        CASE WHEN k.client_id IS NOT NULL THEN 100 ELSE h.score END AS flag_score
    FROM intermediate.client_risk_history AS h
    LEFT JOIN critical AS k USING (client_id, week_start)
),

history_weeks AS (
    SELECT w.week_start, count(DISTINCT p.week_start) AS history_weeks
    FROM (SELECT DISTINCT week_start FROM judged) AS w
    LEFT JOIN (SELECT DISTINCT week_start FROM judged) AS p
        ON p.week_start < w.week_start AND p.week_start >= w.week_start - 364
    GROUP BY w.week_start
),

weeks AS (
    -- the retained clients of week W (active in W) and their active weeks before it
    SELECT
        h.week_start,
        h.history_weeks,
        quantile_cont(p.flag_score, 1 - getvariable('risk_false_alarm_budget') / 52)
            AS calibrated_at
    FROM history_weeks AS h
    LEFT JOIN judged AS r ON r.week_start = h.week_start AND r.status = 'active'
    LEFT JOIN judged AS p
        ON p.client_id = r.client_id AND p.status = 'active'
        AND p.week_start < h.week_start AND p.week_start >= h.week_start - 364
    GROUP BY h.week_start, h.history_weeks
)

SELECT
    j.client_id,
    j.week_start,
    j.critical,
    w.history_weeks,
    w.history_weeks >= getvariable('risk_calibration_min_weeks') AS calibrated,
    round(CASE WHEN w.history_weeks >= getvariable('risk_calibration_min_weeks')
        THEN w.calibrated_at ELSE getvariable('risk_at_risk_at') END, 1) AS at_risk_at
FROM judged AS j
JOIN weeks AS w USING (week_start)

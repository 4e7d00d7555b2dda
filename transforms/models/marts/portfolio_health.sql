-- One row: the portfolio's headline counts as of the build, for the leadership digest:
-- clients by risk status this week (marts.client_risk_weekly, its latest week) and open
-- overdue tasks of the active clients (marts.client_health); and the at-risk threshold the
-- week was judged by, calibrated to the alarm budget or still the default
-- (intermediate.client_risk_calibrated, through marts.client_risk_weekly).
WITH this_week AS (
    SELECT *
    FROM marts.client_risk_weekly
    WHERE week_start = (SELECT max(week_start) FROM marts.client_risk_weekly)
)

SELECT
    (SELECT count(*) FROM staging.cfg_clients) AS clients,
    count(*) FILTER (WHERE w.status = 'active') AS active_clients,
    count(*) FILTER (WHERE w.at_risk) AS at_risk_clients,
    count(*) FILTER (WHERE w.status = 'lost') AS lost_clients,
    count(*) FILTER (WHERE w.lost_recently) AS recently_lost_clients,
    coalesce(sum(h.open_overdue_tasks) FILTER (WHERE w.status = 'active'), 0) AS open_overdue_tasks,
    (SELECT count(DISTINCT week_start) FROM marts.client_risk_weekly) AS history_weeks,
    max(w.at_risk_at) AS risk_threshold,
    coalesce(bool_or(w.calibrated), false) AS risk_threshold_calibrated,
    getvariable('risk_false_alarm_budget') AS risk_false_alarm_budget,
    getvariable('as_of') AS as_of
FROM this_week AS w
LEFT JOIN marts.client_health AS h USING (client_id)

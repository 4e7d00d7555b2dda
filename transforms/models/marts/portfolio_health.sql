-- One row: the portfolio's headline counts as of the build, from marts.client_health.
SELECT
    count(*) AS clients,
    count(*) FILTER (WHERE at_risk) AS at_risk_clients,
    coalesce(sum(open_overdue_tasks), 0) AS open_overdue_tasks,
    getvariable('as_of') AS as_of
FROM marts.client_health

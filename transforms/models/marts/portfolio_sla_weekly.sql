-- Over all clients, per agency-local week and metric: the weekly email SLA figures the
-- leadership digest shows (intermediate.email_sla_weekly_rollup). Median and P90 are over
-- every client's answered waits of the week: they do not add up from client rows.
SELECT * EXCLUDE (grain, client_id)
FROM intermediate.email_sla_weekly_rollup
WHERE grain = 'portfolio'

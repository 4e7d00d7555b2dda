-- Per client, agency-local week and metric: the weekly email SLA figures
-- (intermediate.email_sla_weekly_rollup, where they are computed for both grains).
SELECT * EXCLUDE (grain)
FROM intermediate.email_sla_weekly_rollup
WHERE grain = 'client'

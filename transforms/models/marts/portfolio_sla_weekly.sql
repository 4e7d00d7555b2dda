-- Over all clients, per week (each client's own calendar week) and metric: the weekly email
-- SLA figures the leadership digest shows (intermediate.reply_compliance). Median and P90
-- are over every client's answered waits of the week: they do not add up from client rows.
SELECT * EXCLUDE (grain, client_id, period, window_days, unanswered_past_target)
    RENAME (period_start AS week_start)
FROM intermediate.reply_compliance
WHERE grain = 'portfolio' AND period = 'week'

-- Per client, the client's own calendar week and metric: the weekly email SLA figures
-- (intermediate.reply_compliance, where reply compliance is counted for every reader).
SELECT * EXCLUDE (grain, period, window_days, unanswered_past_target)
    RENAME (period_start AS week_start)
FROM intermediate.reply_compliance
WHERE grain = 'client' AND period = 'week'

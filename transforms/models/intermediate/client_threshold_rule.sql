-- One row per client: the first signal of each area side by side and the earlier
-- three-threshold rule over them (overdue tasks, contact gap against the cadence, first-reply
-- compliance). The churn score (marts.client_risk_weekly) decides who is at risk; this rule
-- is kept as the backtest's baseline, under names that cannot be mistaken for the score's
-- band. Reply figures (business hours, intermediate.reply_compliance) cover the waits
-- that began in the `health_window_days` before as_of. Thresholds and the window come from the
-- agency config (signals.at_risk).
-- threshold_rule_severity: each breached threshold adds how far past it the client is
-- (1 = just at it), so four months of silence outranks two late tasks.
WITH sla AS (
    -- first and next replies to waits that began in the window before as_of
    SELECT
        c.client_id,
        coalesce(f.measurements, 0) AS first_reply_measurements,
        coalesce(f.achieved, 0) AS first_replies_achieved,
        coalesce(f.breached, 0) AS first_replies_breached,
        coalesce(f.pending, 0) AS first_replies_pending,
        f.compliance AS first_reply_compliance,
        n.compliance AS next_reply_compliance,
        round(f.median_business_minutes / 60.0, 1) AS median_first_reply_hours,
        round(f.p90_business_minutes / 60.0, 1) AS p90_first_reply_hours
    FROM staging.cfg_clients AS c
    LEFT JOIN intermediate.reply_compliance AS f
        ON f.client_id = c.client_id AND f.grain = 'client' AND f.period = 'days'
        AND f.window_days = getvariable('health_window_days') AND f.metric = 'first_reply'
    LEFT JOIN intermediate.reply_compliance AS n
        ON n.client_id = c.client_id AND n.grain = 'client' AND n.period = 'days'
        AND n.window_days = getvariable('health_window_days') AND n.metric = 'next_reply'
),

signals AS (
    SELECT
        c.client_id,
        c.client_name,
        c.account_manager_id,
        c.account_manager_name,
        c.tier,
        c.stage,
        getvariable('health_window_days') AS reply_window_days,
        f.first_reply_measurements,
        f.first_replies_achieved,
        f.first_replies_breached,
        f.first_replies_pending,
        f.first_reply_compliance,
        f.next_reply_compliance,
        f.median_first_reply_hours,
        f.p90_first_reply_hours,
        o.open_tasks,
        o.open_overdue_tasks,
        o.max_days_overdue,
        l.last_contact_at,
        l.days_since_last_contact,
        l.contact_cadence_days
    FROM staging.cfg_clients AS c
    JOIN sla AS f USING (client_id)
    JOIN intermediate.client_overdue_tasks AS o USING (client_id)
    JOIN intermediate.client_last_contact AS l USING (client_id)
),

reasons AS (
    SELECT
        *,
        list_filter([
            CASE WHEN open_overdue_tasks >= getvariable('overdue_tasks_threshold')
                THEN 'overdue_tasks' END,
            CASE WHEN days_since_last_contact IS NULL THEN 'no_contact'
                WHEN days_since_last_contact
                    > contact_cadence_days * getvariable('contact_gap_cadence_multiple')
                THEN 'contact_gap' END,
            CASE WHEN first_reply_compliance < getvariable('first_reply_compliance_below')
                THEN 'first_reply_compliance' END
        ], lambda r: r IS NOT NULL) AS threshold_rule_breaches
    FROM signals
)

SELECT
    *,
    len(threshold_rule_breaches) > 0 AS threshold_rule_flagged,
    round(
        CASE WHEN open_overdue_tasks >= getvariable('overdue_tasks_threshold')
            THEN open_overdue_tasks / getvariable('overdue_tasks_threshold') ELSE 0 END
        + CASE WHEN days_since_last_contact IS NULL THEN 1
            WHEN days_since_last_contact
                > contact_cadence_days * getvariable('contact_gap_cadence_multiple')
            THEN days_since_last_contact
                / (contact_cadence_days * getvariable('contact_gap_cadence_multiple'))
            ELSE 0 END
        + CASE WHEN first_reply_compliance < getvariable('first_reply_compliance_below')
            THEN 2 - first_reply_compliance / getvariable('first_reply_compliance_below')
            ELSE 0 END,
        2
    ) AS threshold_rule_severity,
    getvariable('as_of') AS as_of
FROM reasons

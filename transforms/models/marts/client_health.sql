-- One row per client: the first signal of each area side by side, and whether the client
-- is at risk, with the reasons. Thresholds come from the agency config.
-- risk_severity orders the at-risk list: each breached factor adds how far past its
-- threshold it is (1 = just at it), so four months of silence outranks two late tasks.
WITH signals AS (
    SELECT
        c.client_id,
        c.client_name,
        c.account_manager_id,
        c.account_manager_name,
        c.tier,
        c.stage,
        f.conversations,
        f.achieved,
        f.breached,
        f.pending,
        f.compliance AS first_reply_compliance,
        f.median_first_reply_hours,
        f.p90_first_reply_hours,
        o.open_tasks,
        o.open_overdue_tasks,
        o.max_days_overdue,
        l.last_contact_at,
        l.days_since_last_contact,
        l.contact_cadence_days
    FROM staging.cfg_clients AS c
    JOIN marts.client_first_reply AS f USING (client_id)
    JOIN marts.client_overdue_tasks AS o USING (client_id)
    JOIN marts.client_last_contact AS l USING (client_id)
),

reasons AS (
    SELECT
        *,
        list_filter([
            CASE WHEN open_overdue_tasks >= getvariable('overdue_tasks_threshold')
                THEN open_overdue_tasks || ' overdue tasks' END,
            CASE WHEN days_since_last_contact IS NULL THEN 'no contact on record'
                WHEN days_since_last_contact
                    > contact_cadence_days * getvariable('contact_gap_cadence_multiple')
                THEN days_since_last_contact || ' days since last contact (cadence '
                    || contact_cadence_days || ')' END,
            CASE WHEN first_reply_compliance < getvariable('first_reply_compliance_below')
                THEN 'first replies on time ' || CAST(round(first_reply_compliance * 100) AS INTEGER)
                    || '%' END
        ], lambda r: r IS NOT NULL) AS risk_reasons
    FROM signals
)

SELECT
    *,
    len(risk_reasons) > 0 AS at_risk,
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
    ) AS risk_severity,
    getvariable('as_of') AS as_of
FROM reasons

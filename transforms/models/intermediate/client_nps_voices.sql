-- Who speaks for each client in its NPS as of a date (docs/domain.md §5: collect the client's
-- assessment where the agency runs surveys). One voice per person: each contact's latest
-- NPS answer within the 365 days before the date counts, unless that person has left by
-- then (the CRM contact deleted, or intermediate.client_named_contacts saw them leave) —
-- a detractor who left no longer speaks for the client, and a promoter who left no longer
-- props the score up. The dates: the build (`now`) and 180 days before it (`before`), read
-- by intermediate.client_nps; and the last instant of each completed month on the agency's
-- calendar since the month of the first answer (`month`), read by
-- marts.portfolio_feedback_monthly: as known at that month's end, so an answer recorded
-- after it is never in it.
WITH answers AS (
    SELECT *
    FROM staging.crm_feedback
    WHERE client_id IS NOT NULL
        AND survey_type = 'NPS'
        AND submitted_at <= getvariable('as_of')
),

months AS (
    SELECT CAST(g.month AS DATE) AS month_start
    FROM generate_series(
        (
            SELECT date_trunc('month', min(timezone(getvariable('agency_timezone'), submitted_at)))
            FROM answers
        ),
        date_trunc('month', timezone(getvariable('agency_timezone'), getvariable('as_of')))
            - INTERVAL 1 MONTH,
        INTERVAL 1 MONTH
    ) AS g (month)
),

dates AS (
    SELECT 'now' AS period, CAST(NULL AS DATE) AS month_start, getvariable('as_of') AS as_at
    UNION ALL
    SELECT 'before', NULL, getvariable('as_of') - INTERVAL 180 DAY
    UNION ALL
    SELECT
        'month',
        month_start,
        timezone(getvariable('agency_timezone'), CAST(month_start + INTERVAL 1 MONTH AS TIMESTAMP))
            - INTERVAL 1 MICROSECOND
    FROM months
)

SELECT
    d.period,
    d.month_start,
    d.as_at,
    f.client_id,
    coalesce(f.contact_id, f.contact_email, f.response_id) AS voice,
    f.response_id,
    f.score,
    f.response_group,
    f.submitted_at,
    f.contact_email
FROM answers AS f
CROSS JOIN dates AS d
LEFT JOIN intermediate.client_named_contacts AS n
    ON n.client_id = f.client_id AND n.address = f.contact_email
WHERE f.submitted_at <= d.as_at
    AND f.submitted_at > d.as_at - INTERVAL 365 DAY
    AND NOT coalesce(f.contact_removed_at <= d.as_at, false)
    AND NOT coalesce(n.left_noticed_at <= d.as_at, false)
QUALIFY row_number() OVER (
    PARTITION BY d.period, d.month_start, f.client_id, voice
    ORDER BY f.submitted_at DESC, f.response_id DESC
) = 1

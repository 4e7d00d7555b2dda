-- What each client owes the agency as of the build (docs/domain.md §5, §7: receivables are
-- the account manager's to watch; a fall in turnover is a red light), per client and
-- invoice currency. Only what was known then: an invoice counts once its CRM record exists
-- and it is issued; it is open unless paid by then (one paid after as_of was open then);
-- its open amount is its balance when the record was last changed before as_of, else the
-- full amount. Overdue: open and past its due date, by age band. Monthly billing: what was
-- invoiced in the 180 days before as_of, per 30 days.
WITH today AS (
    SELECT CAST(timezone(getvariable('agency_timezone'), getvariable('as_of')) AS DATE) AS d
),

known AS (
    SELECT
        i.*,
        i.paid_at IS NULL OR i.paid_at > getvariable('as_of') AS is_open,
        CASE
            WHEN i.paid_at <= getvariable('as_of') THEN 0
            WHEN i.paid_at IS NULL AND i.updated_at <= getvariable('as_of')
                THEN coalesce(i.balance_due, i.amount_billed)
            ELSE i.amount_billed
        END AS open_amount,
        date_diff('day', i.due_on, t.d) AS days_past_due
    FROM staging.crm_invoices AS i, today AS t
    WHERE i.client_id IS NOT NULL
        AND i.created_at <= getvariable('as_of')
        AND i.issued_on <= t.d
),

per_client AS (
    SELECT
        client_id,
        coalesce(currency, '') AS currency,
        count(*) FILTER (WHERE is_open AND open_amount > 0) AS open_invoices,
        coalesce(sum(open_amount) FILTER (WHERE is_open), 0) AS open_amount,
        count(*) FILTER (WHERE is_open AND open_amount > 0 AND days_past_due > 0)
            AS overdue_invoices,
        coalesce(sum(open_amount) FILTER (WHERE is_open AND days_past_due > 0), 0)
            AS overdue_amount,
        coalesce(sum(open_amount) FILTER (WHERE is_open AND days_past_due BETWEEN 1 AND 30), 0)
            AS overdue_1_30,
        coalesce(sum(open_amount) FILTER (WHERE is_open AND days_past_due BETWEEN 31 AND 60), 0)
            AS overdue_31_60,
        coalesce(sum(open_amount) FILTER (WHERE is_open AND days_past_due BETWEEN 61 AND 90), 0)
            AS overdue_61_90,
        coalesce(sum(open_amount) FILTER (WHERE is_open AND days_past_due > 90), 0)
            AS overdue_over_90,
        max(days_past_due) FILTER (WHERE is_open AND open_amount > 0 AND days_past_due > 0)
            AS oldest_overdue_days,
        coalesce(
            sum(amount_billed) FILTER (
                WHERE issued_on > CAST((SELECT d FROM today) - INTERVAL 180 DAY AS DATE)
            ),
            0
        ) / 6 AS monthly_billing
    FROM known
    GROUP BY ALL
)

SELECT
    *,
    CASE
        WHEN monthly_billing > 0 THEN round(overdue_amount / monthly_billing, 2)
    END AS overdue_to_monthly_billing
FROM per_client

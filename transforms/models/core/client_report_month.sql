-- The month the monthly client report covers (docs/domain.md §3): per configured client,
-- the calendar month before the month of as_of on the client's own calendar.
SELECT
    client_id,
    timezone,
    CAST(CAST(date_trunc('month', CAST(timezone(timezone, getvariable('as_of')) AS DATE)) AS DATE)
        - INTERVAL 1 MONTH AS DATE) AS month_start,
    CAST(date_trunc('month', CAST(timezone(timezone, getvariable('as_of')) AS DATE)) AS DATE)
        AS month_end
FROM staging.cfg_clients

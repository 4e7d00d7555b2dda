-- CRM invoices, typed (HubSpot's invoices object, or invoices.csv): number, amount billed,
-- balance due, currency, issue and due dates, payment moment and status. An invoice
-- belongs to its first associated company. Archived, draft and voided invoices are left
-- out: a draft was never sent, and HubSpot keeps no date for a void, so a voided invoice
-- is left out at every date rather than guessed open.
WITH invoices AS (
    SELECT
        o.id AS invoice_id,
        o.payload -> 'properties' AS p,
        json_extract_string(o.payload, '$.associations.companies[0]') AS company_id,
        CAST(o.payload ->> 'createdAt' AS TIMESTAMPTZ) AS created_at,
        o.updated_at
    FROM raw.crm_objects AS o
    WHERE o.object_type = 'invoices' AND NOT o.archived
)

SELECT
    i.invoice_id,
    coalesce(i.p ->> 'hs_number', i.invoice_id) AS invoice_number,
    lower(i.p ->> 'hs_invoice_status') AS status,
    TRY_CAST(i.p ->> 'hs_amount_billed' AS DECIMAL(18, 2)) AS amount_billed,
    TRY_CAST(i.p ->> 'hs_balance_due' AS DECIMAL(18, 2)) AS balance_due,
    upper(i.p ->> 'hs_currency') AS currency,
    -- HubSpot date properties are midnight UTC; CSV dates are plain dates.
    TRY_CAST(left(i.p ->> 'hs_invoice_date', 10) AS DATE) AS issued_on,
    TRY_CAST(left(i.p ->> 'hs_due_date', 10) AS DATE) AS due_on,
    TRY_CAST(i.p ->> 'hs_payment_date' AS TIMESTAMPTZ) AS paid_at,
    -- A CSV row without created_at: known from its invoice date.
    coalesce(
        i.created_at,
        timezone(getvariable('agency_timezone'),
            CAST(TRY_CAST(left(i.p ->> 'hs_invoice_date', 10) AS DATE) AS TIMESTAMP))
    ) AS created_at,
    coalesce(i.updated_at, i.created_at) AS updated_at,
    i.company_id,
    c.client_id
FROM invoices AS i
LEFT JOIN staging.cfg_clients AS c ON c.crm_company_id = i.company_id
WHERE coalesce(lower(i.p ->> 'hs_invoice_status'), 'open') NOT IN ('draft', 'voided')

-- CRM deals, typed: pipeline, stage, amount, close date (agency time zone), and whether
-- the stage counts as won or lost (`sources.crm.won_stages` / `lost_stages`). A deal
-- belongs to its first associated company. Archived deals are left out.
WITH deals AS (
    SELECT
        o.id AS deal_id,
        o.payload -> 'properties' AS p,
        json_extract_string(o.payload, '$.associations.companies[0]') AS company_id,
        CAST(o.payload ->> 'createdAt' AS TIMESTAMPTZ) AS created_at,
        o.updated_at
    FROM raw.crm_objects AS o
    WHERE o.object_type = 'deals' AND NOT o.archived
)

SELECT
    d.deal_id,
    d.p ->> 'dealname' AS deal_name,
    d.p ->> 'pipeline' AS pipeline,
    d.p ->> 'dealstage' AS deal_stage,
    d.p ->> 'dealtype' AS deal_type,
    TRY_CAST(d.p ->> 'amount' AS DECIMAL(18, 2)) AS amount,
    TRY_CAST(d.p ->> 'closedate' AS TIMESTAMPTZ) AS closed_at,
    CAST(timezone(getvariable('agency_timezone'), TRY_CAST(d.p ->> 'closedate' AS TIMESTAMPTZ))
        AS DATE) AS close_date,
    list_contains(getvariable('won_stages'), d.p ->> 'dealstage') AS is_won,
    list_contains(getvariable('lost_stages'), d.p ->> 'dealstage') AS is_lost,
    d.p ->> 'hubspot_owner_id' AS owner_id,
    d.created_at,
    d.updated_at,
    d.company_id,
    c.client_id
FROM deals AS d
LEFT JOIN staging.cfg_clients AS c ON c.crm_company_id = d.company_id

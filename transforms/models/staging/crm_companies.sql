-- CRM companies, typed, with the configured client they map to (if any).
-- Archived companies (tombstones in raw) are left out.
SELECT
    o.id AS company_id,
    o.payload -> 'properties' ->> 'name' AS company_name,
    o.payload -> 'properties' ->> 'domain' AS domain,
    o.payload -> 'properties' ->> 'lifecyclestage' AS lifecycle_stage,
    o.payload -> 'properties' ->> 'hubspot_owner_id' AS owner_id,
    CAST(o.payload ->> 'createdAt' AS TIMESTAMPTZ) AS created_at,
    o.updated_at,
    o.payload -> 'properties' AS properties,
    c.client_id
FROM raw.crm_objects AS o
LEFT JOIN staging.cfg_clients AS c ON c.crm_company_id = o.id
WHERE o.object_type = 'companies' AND NOT o.archived

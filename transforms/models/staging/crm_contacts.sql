-- CRM contacts at companies, typed, with their seniority read from the job title
-- (`signals.relationship.executive_title` / `manager_title` patterns): executive,
-- manager, staff, or NULL without a title. A contact belongs to its first associated
-- company. Archived contacts are left out.
WITH contacts AS (
    SELECT
        o.id AS contact_id,
        o.payload -> 'properties' AS p,
        json_extract_string(o.payload, '$.associations.companies[0]') AS company_id,
        CAST(o.payload ->> 'createdAt' AS TIMESTAMPTZ) AS created_at
    FROM raw.crm_objects AS o
    WHERE o.object_type = 'contacts' AND NOT o.archived
)

SELECT
    k.contact_id,
    lower(k.p ->> 'email') AS email,
    trim(concat_ws(' ', k.p ->> 'firstname', k.p ->> 'lastname')) AS contact_name,
    k.p ->> 'jobtitle' AS job_title,
    CASE
        WHEN nullif(trim(k.p ->> 'jobtitle'), '') IS NULL THEN NULL
        WHEN regexp_matches(k.p ->> 'jobtitle', getvariable('executive_title')) THEN 'executive'
        WHEN regexp_matches(k.p ->> 'jobtitle', getvariable('manager_title')) THEN 'manager'
        ELSE 'staff'
    END AS seniority,
    TRY_CAST(left(k.p ->> 'date_of_birth', 10) AS DATE) AS date_of_birth,
    k.p ->> 'hubspot_owner_id' AS owner_id,
    k.created_at,
    k.company_id,
    c.client_id
FROM contacts AS k
LEFT JOIN staging.cfg_clients AS c ON c.crm_company_id = k.company_id

-- Client survey answers (HubSpot feedback submissions, or feedback.csv), typed: survey type,
-- the 0–10 score and its group (promoter 9–10, passive 7–8, detractor 0–6, from the score
-- itself), when it was submitted, who answered (the associated contact, else the e-mail the
-- CSV gives) and their company. `contact_removed_at`: when the CRM contact was deleted, if
-- it was (the person left, or the record went). The comment is there only when the agency
-- keeps comments (sources.crm.keep_feedback_comments); otherwise it was never read.
WITH answers AS (
    SELECT
        o.id AS response_id,
        o.payload -> 'properties' AS p,
        json_extract_string(o.payload, '$.associations.contacts[0]') AS contact_id,
        json_extract_string(o.payload, '$.associations.companies[0]') AS company_id,
        CAST(o.payload ->> 'createdAt' AS TIMESTAMPTZ) AS created_at
    FROM raw.crm_objects AS o
    WHERE o.object_type = 'feedback_submissions' AND NOT o.archived
),

contacts AS (
    SELECT
        id AS contact_id,
        lower(payload -> 'properties' ->> 'email') AS email,
        json_extract_string(payload, '$.associations.companies[0]') AS company_id,
        CASE WHEN archived THEN coalesce(archived_at, updated_at) END AS removed_at
    FROM raw.crm_objects
    WHERE object_type = 'contacts'
),

typed AS (
    SELECT
        a.response_id,
        upper(coalesce(nullif(a.p ->> 'hs_survey_type', ''), 'NPS')) AS survey_type,
        a.p ->> 'hs_survey_name' AS survey_name,
        TRY_CAST(a.p ->> 'hs_value' AS INTEGER) AS score,
        coalesce(TRY_CAST(a.p ->> 'hs_submission_timestamp' AS TIMESTAMPTZ), a.created_at)
            AS submitted_at,
        a.p ->> 'hs_content' AS comment,
        a.contact_id,
        coalesce(k.email, lower(a.p ->> 'hs_contact_email')) AS contact_email,
        k.removed_at AS contact_removed_at,
        coalesce(a.company_id, k.company_id) AS company_id
    FROM answers AS a
    LEFT JOIN contacts AS k USING (contact_id)
)

SELECT
    t.response_id,
    t.survey_type,
    t.survey_name,
    t.score,
    CASE
        WHEN t.score >= 9 THEN 'promoter'
        WHEN t.score >= 7 THEN 'passive'
        WHEN t.score >= 0 THEN 'detractor'
    END AS response_group,
    t.submitted_at,
    t.comment,
    t.contact_id,
    t.contact_email,
    t.contact_removed_at,
    t.company_id,
    c.client_id
FROM typed AS t
LEFT JOIN staging.cfg_clients AS c ON c.crm_company_id = t.company_id
WHERE t.score BETWEEN 0 AND 10

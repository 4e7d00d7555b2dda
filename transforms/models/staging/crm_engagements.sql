-- Calls, meetings, notes and logged emails from the CRM, one row per engagement and
-- associated company, with the client that company is. Archived ones are left out.
-- `on_site` marks meetings held at the client's (docs/domain.md §4), by their location; `held`
-- is false for a meeting that did not take place (scheduled, rescheduled, no-show,
-- cancelled): such a meeting is no contact.
WITH engagements AS (
    SELECT
        o.id AS engagement_id,
        o.object_type AS engagement_type,
        CAST(o.payload -> 'properties' ->> 'hs_timestamp' AS TIMESTAMPTZ) AS occurred_at,
        o.payload -> 'properties' ->> 'hubspot_owner_id' AS owner_id,
        o.payload -> 'properties' ->> 'hs_meeting_location' AS meeting_location,
        o.payload -> 'properties' ->> 'hs_meeting_outcome' AS meeting_outcome,
        coalesce(
            CAST(json_extract_string(o.payload, '$.associations.contacts[*]') AS VARCHAR[]), []
        ) AS contact_ids,
        unnest(coalesce(
            CAST(json_extract_string(o.payload, '$.associations.companies[*]') AS VARCHAR[]),
            []
        )) AS company_id
    FROM raw.crm_objects AS o
    WHERE o.object_type IN ('calls', 'meetings', 'notes', 'emails') AND NOT o.archived
)

SELECT
    e.*,
    e.engagement_type = 'meetings'
    AND coalesce(regexp_matches(e.meeting_location, getvariable('on_site_location')), false)
        AS on_site,
    coalesce(upper(e.meeting_outcome), 'COMPLETED')
        NOT IN ('SCHEDULED', 'RESCHEDULED', 'NO_SHOW', 'CANCELED', 'CANCELLED') AS held,
    c.client_id
FROM engagements AS e
LEFT JOIN staging.cfg_clients AS c ON c.crm_company_id = e.company_id

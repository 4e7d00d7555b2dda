-- Relationship depth per client (docs/domain.md §4, §6), as of the build:
-- contacts on record and active ones (on a call, meeting, note or logged email within
-- `signals.relationship.active_contact_days`), by seniority from the job title; the
-- last meeting held and the last call; on-site visits (meetings whose location matches
-- `on_site_location`) — the last one, and in how many of the last three 30-day
-- windows there was one (§4: at least monthly); the next meeting booked.
-- Meetings count as held unless their outcome says otherwise.
WITH held AS (
    SELECT *
    FROM staging.crm_engagements
    WHERE client_id IS NOT NULL
        AND occurred_at <= getvariable('as_of')
        AND held
),

activity AS (
    SELECT
        client_id,
        max(occurred_at) FILTER (WHERE engagement_type = 'meetings') AS last_meeting_at,
        max(occurred_at) FILTER (WHERE engagement_type = 'calls') AS last_call_at,
        max(occurred_at) FILTER (WHERE on_site) AS last_on_site_at,
        count(*) FILTER (
            WHERE engagement_type = 'meetings' AND occurred_at > getvariable('as_of') - INTERVAL 90 DAY
        ) AS meetings_90d,
        count(*) FILTER (
            WHERE on_site AND occurred_at > getvariable('as_of') - INTERVAL 90 DAY
        ) AS on_site_visits_90d,
        count(DISTINCT floor(date_diff('day', occurred_at, getvariable('as_of')) / 30)) FILTER (
            WHERE on_site AND occurred_at > getvariable('as_of') - INTERVAL 90 DAY
        ) AS on_site_months_90d
    FROM held
    GROUP BY client_id
),

active_contacts AS (
    SELECT DISTINCT h.client_id, unnest(h.contact_ids) AS contact_id
    FROM held AS h
    WHERE h.occurred_at > getvariable('as_of') - to_days(CAST(getvariable('active_contact_days') AS INTEGER))
),

contacts AS (
    SELECT
        k.client_id,
        count(*) AS contacts,
        count(a.contact_id) AS active_contacts,
        count(a.contact_id) FILTER (WHERE k.seniority = 'executive') AS active_executives,
        count(a.contact_id) FILTER (WHERE k.seniority = 'manager') AS active_managers,
        count(*) FILTER (WHERE k.seniority = 'executive') AS executives
    FROM staging.crm_contacts AS k
    LEFT JOIN active_contacts AS a USING (client_id, contact_id)
    WHERE k.client_id IS NOT NULL
    GROUP BY k.client_id
),

booked AS (
    SELECT client_id, min(occurred_at) AS next_meeting_at
    FROM staging.crm_engagements
    WHERE client_id IS NOT NULL AND engagement_type = 'meetings'
        AND occurred_at > getvariable('as_of')
        AND coalesce(upper(meeting_outcome), 'SCHEDULED') = 'SCHEDULED'
    GROUP BY client_id
)

SELECT
    c.client_id,
    coalesce(k.contacts, 0) AS contacts,
    coalesce(k.active_contacts, 0) AS active_contacts,
    coalesce(k.active_executives, 0) AS senior_contacts,
    coalesce(k.active_managers, 0) AS manager_contacts,
    coalesce(k.executives, 0) AS executives_on_record,
    a.last_meeting_at,
    a.last_call_at,
    coalesce(a.meetings_90d, 0) AS meetings_90d,
    a.last_on_site_at,
    date_diff('day', a.last_on_site_at, getvariable('as_of')) AS days_since_on_site,
    coalesce(a.on_site_visits_90d, 0) AS on_site_visits_90d,
    coalesce(a.on_site_months_90d, 0) AS on_site_months_90d,
    coalesce(date_diff('day', a.last_on_site_at, getvariable('as_of')) <= 30, false)
        AS on_site_this_month,
    b.next_meeting_at
FROM staging.cfg_clients AS c
LEFT JOIN contacts AS k USING (client_id)
LEFT JOIN activity AS a USING (client_id)
LEFT JOIN booked AS b USING (client_id)

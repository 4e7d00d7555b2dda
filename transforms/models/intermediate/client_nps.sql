-- Client NPS as of the build and 180 days before (docs/domain.md §5: collect the client's
-- assessment where the agency runs surveys). One voice per person: each contact's latest
-- NPS answer within the 365 days before the date counts, unless that person has left by
-- then (the CRM contact deleted, or intermediate.client_named_contacts saw them leave) —
-- a detractor who left no longer speaks for the client, and a promoter who left no longer
-- props the score up. NPS = (promoters − detractors) / answers × 100.
-- The recent detractor: the latest answer of a current voice, if it scored 0–6 within the
-- last 90 days (the signal an account manager acts on).
WITH dates AS (
    SELECT 'now' AS label, getvariable('as_of') AS as_at
    UNION ALL
    SELECT 'before', getvariable('as_of') - INTERVAL 180 DAY
),

voices AS (
    SELECT d.label, d.as_at, f.*
    FROM staging.crm_feedback AS f
    CROSS JOIN dates AS d
    LEFT JOIN intermediate.client_named_contacts AS n
        ON n.client_id = f.client_id AND n.address = f.contact_email
    WHERE f.client_id IS NOT NULL
        AND f.survey_type = 'NPS'
        AND f.submitted_at <= d.as_at
        AND f.submitted_at > d.as_at - INTERVAL 365 DAY
        AND NOT coalesce(f.contact_removed_at <= d.as_at, false)
        AND NOT coalesce(n.left_noticed_at <= d.as_at, false)
    QUALIFY row_number() OVER (
        PARTITION BY d.label, f.client_id, coalesce(f.contact_id, f.contact_email, f.response_id)
        ORDER BY f.submitted_at DESC, f.response_id DESC
    ) = 1
),

scored AS (
    SELECT
        client_id,
        label,
        count(*) AS answers,
        count(*) FILTER (WHERE response_group = 'promoter') AS promoters,
        count(*) FILTER (WHERE response_group = 'passive') AS passives,
        count(*) FILTER (WHERE response_group = 'detractor') AS detractors,
        round(100.0 * (
            count(*) FILTER (WHERE response_group = 'promoter')
            - count(*) FILTER (WHERE response_group = 'detractor')
        ) / count(*)) AS nps,
        arg_max(
            {'score': score, 'at': submitted_at, 'contact': contact_email},
            submitted_at
        ) FILTER (
            WHERE response_group = 'detractor' AND submitted_at > as_at - INTERVAL 90 DAY
        ) AS recent_detractor
    FROM voices
    GROUP BY ALL
)

SELECT
    n.client_id,
    n.answers,
    n.promoters,
    n.passives,
    n.detractors,
    CAST(n.nps AS INTEGER) AS nps,
    CAST(b.nps AS INTEGER) AS nps_180_days_before,
    CAST(n.nps - b.nps AS INTEGER) AS nps_change,
    n.recent_detractor.score AS recent_detractor_score,
    n.recent_detractor.at AS recent_detractor_at,
    n.recent_detractor.contact AS recent_detractor_contact
FROM scored AS n
LEFT JOIN scored AS b ON b.client_id = n.client_id AND b.label = 'before'
WHERE n.label = 'now'

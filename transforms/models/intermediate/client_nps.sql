-- Client NPS as of the build and 180 days before (docs/domain.md §5: collect the client's
-- assessment where the agency runs surveys), over the voices of
-- intermediate.client_nps_voices (one a person: their latest answer within the year before,
-- people who have left by then left out). NPS = (promoters − detractors) / answers × 100.
-- The recent detractor: the latest answer of a current voice, if it scored 0–6 within the
-- last 90 days (the signal an account manager acts on).
WITH scored AS (
    SELECT
        client_id,
        period,
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
    FROM intermediate.client_nps_voices
    WHERE period IN ('now', 'before')
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
LEFT JOIN scored AS b ON b.client_id = n.client_id AND b.period = 'before'
WHERE n.period = 'now'

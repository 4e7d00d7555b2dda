-- Dates worth a greeting in the next `signals.relationship.greeting_horizon_days`
-- (docs/domain.md §4: congratulate clients on dates that matter to them), where the CRM
-- holds them: birthdays of the client's contacts, and the anniversary of the first
-- won deal (years of working together); and the public holidays of the client's country
-- (core.client_public_holidays, named in English, Ukrainian and Russian where known).
WITH today AS (
    SELECT CAST(timezone(getvariable('agency_timezone'), getvariable('as_of')) AS DATE) AS d
),

dates AS (
    SELECT
        client_id,
        'birthday' AS occasion,
        contact_name AS who,
        date_of_birth AS original_date
    FROM staging.crm_contacts
    WHERE client_id IS NOT NULL AND date_of_birth IS NOT NULL
    UNION ALL
    SELECT client_id, 'first deal anniversary', client_name, first_deal_date
    FROM core.dim_client
    WHERE first_deal_date IS NOT NULL
),

-- The date in this year and the next (29 February falls on 1 March in other years).
shifted AS (
    SELECT
        dates.*,
        today.d AS today,
        CAST(
            make_date(year(today.d), month(original_date), 1)
            + to_days(CAST(day(original_date) - 1 AS INTEGER)) AS DATE
        ) AS this_year,
        CAST(
            make_date(year(today.d) + 1, month(original_date), 1)
            + to_days(CAST(day(original_date) - 1 AS INTEGER)) AS DATE
        ) AS next_year
    FROM dates, today
),

next_occurrence AS (
    SELECT
        *,
        CASE WHEN this_year >= today THEN this_year ELSE next_year END AS occurs_on
    FROM shifted
)

SELECT
    client_id,
    occasion,
    who,
    occurs_on,
    occurs_on - today AS days_until,
    year(occurs_on) - year(original_date) AS years,
    NULL AS holiday_name_en,
    NULL AS holiday_name_uk,
    NULL AS holiday_name_ru
FROM next_occurrence
WHERE occurs_on - today <= getvariable('greeting_horizon_days')
    AND occurs_on > original_date
UNION ALL
SELECT
    h.client_id,
    'public holiday',
    NULL,
    h.holiday_on,
    h.holiday_on - today.d,
    NULL,
    h.name_en,
    h.name_uk,
    h.name_ru
FROM core.client_public_holidays AS h, today
WHERE h.holiday_on BETWEEN today.d AND today.d + getvariable('greeting_horizon_days')

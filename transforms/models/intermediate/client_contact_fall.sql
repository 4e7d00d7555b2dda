-- One row per client as of as_of: how unusual the client's recent quiet is, judged against
-- its own weekly counts of two-way exchanges, the agency's season and its manager's
-- absences (docs/risk_detection.md has the method and its references).
-- * weeks: the complete agency-local weeks before as_of's, the last
--   `risk_contact_recent_weeks` of them "recent", the `risk_contact_baseline_weeks` before
--   them the baseline; only weeks the mail on record covers count;
-- * season: each week, the exchanges of every other client against their mean over the
--   baseline weeks (New Year, August, a public holiday: below 1 for the whole agency);
-- * manager away: a week in which the client's account manager sent no mail to any of
--   their other clients while they did in the baseline (a holiday silences every client
--   of theirs; one client's own silence does not stop their mail to the others); such
--   weeks are left out on both sides: the manager's holiday is not the client's fall;
-- * usual rate: the client's baseline exchanges over the sum of its baseline weeks'
--   season (so a baseline that held August is not read as low), and dispersion: the
--   Pearson chi-square of its baseline weeks over their degrees of freedom, at least 1
--   (quasi-Poisson: a client whose weeks swing more needs a deeper fall);
-- * fall: over each run of the last k recent weeks (k = 1 … recent weeks; a scan, as a
--   CUSUM would), observed exchanges x against expected mu = usual rate × the weeks'
--   season; z = the signed root of the Poisson deviance over the dispersion,
--   sqrt(2 (x ln(x/mu) - (x - mu)) / dispersion), counted only where mu reaches
--   `risk_contact_fall_min_expected` (the minimum evidence: two exchanges a month cannot
--   show a fall in one quiet week); the run with the largest z is the one reported.
WITH clients AS (
    SELECT
        client_id,
        lower(account_manager_email) AS manager_email,
        CAST(date_trunc('week', timezone(getvariable('agency_timezone'), getvariable('as_of')))
            AS DATE) AS this_week
    FROM staging.cfg_clients
),

first_week AS (
    -- the first whole week the mail on record covers
    SELECT CAST(date_trunc('week', timezone(getvariable('agency_timezone'), min(sent_at)))
        AS DATE) + 7 AS covered_from
    FROM staging.email_messages
    WHERE sent_at <= getvariable('as_of')
),

weeks AS (
    SELECT
        c.client_id,
        c.manager_email,
        CAST(w.week_start AS DATE) AS week_start,
        -- 1 for the latest complete week, 2 for the one before, …
        CAST(date_diff('day', CAST(w.week_start AS DATE), c.this_week) / 7 AS INTEGER) AS back,
        w.week_start >= c.this_week - 7 * getvariable('risk_contact_recent_weeks') AS is_recent
    FROM clients AS c
    CROSS JOIN first_week AS f
    CROSS JOIN LATERAL (
        SELECT unnest(generate_series(
            CAST(c.this_week - 7 * (getvariable('risk_contact_recent_weeks')
                + getvariable('risk_contact_baseline_weeks')) AS TIMESTAMP),
            CAST(c.this_week - 7 AS TIMESTAMP), INTERVAL 7 DAY)) AS week_start
    ) AS w
    WHERE w.week_start >= f.covered_from
),

exchanges AS (
    SELECT
        client_id,
        CAST(date_trunc('week', timezone(getvariable('agency_timezone'), occurred_at)) AS DATE)
            AS week_start,
        count(*) AS n
    FROM intermediate.client_exchanges
    WHERE occurred_at <= getvariable('as_of')
    GROUP BY ALL
),

agency AS (
    SELECT week_start, sum(n) AS n FROM exchanges GROUP BY week_start
),

manager_mail AS (
    SELECT
        lower(from_addr) AS manager_email,
        client_id,
        CAST(date_trunc('week', timezone(getvariable('agency_timezone'), sent_at)) AS DATE)
            AS week_start,
        count(*) AS sent
    FROM staging.email_messages
    WHERE direction = 'outbound' AND sent_at <= getvariable('as_of')
    GROUP BY ALL
),

grid AS (
    SELECT
        w.client_id,
        w.week_start,
        w.back,
        w.is_recent,
        coalesce(e.n, 0) AS n,
        coalesce(a.n, 0) - coalesce(e.n, 0) AS others,
        coalesce(t.sent, 0) - coalesce(m.sent, 0) AS manager_sent  -- to the other clients
    FROM weeks AS w
    LEFT JOIN exchanges AS e USING (client_id, week_start)
    LEFT JOIN agency AS a USING (week_start)
    LEFT JOIN manager_mail AS m USING (manager_email, client_id, week_start)
    LEFT JOIN (
        SELECT manager_email, week_start, sum(sent) AS sent FROM manager_mail GROUP BY ALL
    ) AS t USING (manager_email, week_start)
),

seasoned AS (
    SELECT
        *,
        coalesce(others / nullif(avg(others) FILTER (WHERE NOT is_recent)
            OVER (PARTITION BY client_id), 0), 1) AS season,
        manager_sent = 0 AND coalesce(sum(manager_sent) FILTER (WHERE NOT is_recent)
            OVER (PARTITION BY client_id), 0) > 0 AS manager_away
    FROM grid
),

usual AS (
    SELECT
        client_id,
        count(*) FILTER (WHERE NOT is_recent) AS baseline_weeks,
        sum(n) FILTER (WHERE NOT is_recent AND NOT manager_away) AS baseline_n,
        sum(n) FILTER (WHERE NOT is_recent AND NOT manager_away)
            / nullif(sum(season) FILTER (WHERE NOT is_recent AND NOT manager_away), 0) AS rate,
        count(*) FILTER (WHERE is_recent AND manager_away) AS away_weeks,
        avg(season) FILTER (WHERE is_recent) AS recent_season
    FROM seasoned
    GROUP BY client_id
),

dispersion AS (
    SELECT
        s.client_id,
        greatest(1, coalesce(sum(power(s.n - u.rate * s.season, 2) / (u.rate * s.season))
            / nullif(count(*) - 1, 0), 1)) AS dispersion
    FROM seasoned AS s
    JOIN usual AS u USING (client_id)
    WHERE NOT s.is_recent AND NOT s.manager_away AND u.rate * s.season > 0
    GROUP BY s.client_id
),

runs AS (
    -- the last k recent weeks, k = 1 … recent weeks: observed and expected exchanges
    SELECT
        s.client_id,
        s.back AS run_weeks,
        sum(s.n) FILTER (WHERE NOT s.manager_away)
            OVER (PARTITION BY s.client_id ORDER BY s.back) AS observed,
        u.rate * sum(s.season) FILTER (WHERE NOT s.manager_away)
            OVER (PARTITION BY s.client_id ORDER BY s.back) AS expected
    FROM seasoned AS s
    JOIN usual AS u USING (client_id)
    WHERE s.is_recent
        AND u.baseline_weeks >= getvariable('risk_contact_baseline_min_weeks')
        AND u.rate > 0
),

tested AS (
    SELECT
        r.*,
        d.dispersion,
        CASE WHEN r.observed < r.expected
            AND r.expected >= getvariable('risk_contact_fall_min_expected')
            -- greatest(0, …): when x is a hair under mu the deviance rounds below zero,
            -- and the root of that (NaN) would sort above every real fall
            THEN sqrt(greatest(0, 2 * ((CASE WHEN r.observed > 0
                THEN r.observed * ln(r.observed / r.expected) ELSE 0 END)
                - (r.observed - r.expected)) / d.dispersion))
            ELSE 0
        END AS fall_z
    FROM runs AS r
    JOIN dispersion AS d USING (client_id)
),

worst AS (
    SELECT
        client_id,
        first({
            'run_weeks': run_weeks, 'observed': observed, 'expected': expected,
            'fall_z': fall_z, 'dispersion': dispersion
        } ORDER BY fall_z DESC, run_weeks DESC) AS w
    FROM tested
    GROUP BY client_id
)

SELECT
    c.client_id,
    u.baseline_weeks,
    u.baseline_n,
    round(u.rate, 3) AS usual_per_week,
    u.away_weeks AS manager_away_weeks,
    round(u.recent_season, 2) AS recent_season,
    w.w.run_weeks AS run_weeks,
    CAST(w.w.observed AS INTEGER) AS observed,
    round(w.w.expected, 2) AS expected,
    round(w.w.dispersion, 2) AS dispersion,
    round(w.w.fall_z, 2) AS fall_z
FROM clients AS c
LEFT JOIN usual AS u USING (client_id)
LEFT JOIN worst AS w USING (client_id)

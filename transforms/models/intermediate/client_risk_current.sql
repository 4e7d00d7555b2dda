-- One row per client whose relationship has started, for the agency-local week of as_of:
-- the risk score, its band, whether the client is at risk and why, and whether the
-- relationship has ended (`lost`).
-- * score: the weighted mean of the factors with data (intermediate.client_risk_factors,
--   weights from signals.risk.factors); coverage = the share of the weight that had data;
-- * band: healthy below `risk_watch_at`, watch below `risk_at_risk_at`, else at_risk; a
--   critical factor at or past its `critical_at` puts the client at risk by itself;
-- * started: the configured start_date, else the first won deal, else the first two-way
--   exchange; no row before it (a client not yet working with the agency is no risk);
-- * lost: past the configured end_date, or no open deal, no task activity and no
--   two-way exchange for `risk_lost_after_days` — or only `risk_lost_after_lost_deal_days`
--   once the client's latest closed deal was lost (the renewal declined: the agency knows
--   the relationship is ending, and a client-week flagged after the client has gone
--   warns of nothing): dated by the configured end or the last exchange. A lost client
--   is never at risk.
WITH exchanges AS (
    SELECT client_id, min(occurred_at) AS first_at, max(occurred_at) AS last_at
    FROM intermediate.client_exchanges
    GROUP BY client_id
),

started AS (
    SELECT
        c.client_id,
        coalesce(c.start_date, d.first_deal_date, CAST(e.first_at AS DATE)) AS started_on,
        c.end_date,
        d.open_deals,
        -- quiet this long and the client is lost: sooner once the latest closed deal
        -- was lost (the renewal declined)
        CASE WHEN coalesce(d.last_lost_date >= coalesce(d.last_won_date, d.last_lost_date), false)
            THEN least(getvariable('risk_lost_after_lost_deal_days'),
                getvariable('risk_lost_after_days'))
            ELSE getvariable('risk_lost_after_days')
        END AS lost_after_days,
        e.last_at AS last_exchange_at
    FROM staging.cfg_clients AS c
    LEFT JOIN core.dim_client AS d USING (client_id)
    LEFT JOIN exchanges AS e USING (client_id)
),

task_activity AS (
    SELECT t.client_id, max(s.created_at) AS last_activity_at
    FROM staging.asana_stories AS s
    JOIN staging.asana_tasks AS t USING (task_gid)
    WHERE s.created_at <= getvariable('as_of')
    GROUP BY t.client_id
),

status AS (
    SELECT
        s.client_id,
        s.started_on,
        CASE
            WHEN s.end_date <= CAST(timezone(getvariable('agency_timezone'), getvariable('as_of'))
                AS DATE) THEN s.end_date
            WHEN coalesce(s.open_deals, 0) = 0
                AND coalesce(a.last_activity_at, s.last_exchange_at)
                    < getvariable('as_of') - to_days(s.lost_after_days)
                AND s.last_exchange_at < getvariable('as_of') - to_days(s.lost_after_days)
                THEN CAST(s.last_exchange_at AS DATE)
        END AS lost_on
    FROM started AS s
    LEFT JOIN task_activity AS a USING (client_id)
    WHERE s.started_on <= CAST(timezone(getvariable('agency_timezone'), getvariable('as_of')) AS DATE)
),

weighted AS (
    SELECT
        *,
        sum(weight) FILTER (WHERE score IS NOT NULL) OVER (PARTITION BY client_id)
            AS weight_with_data,
        sum(weight) OVER (PARTITION BY client_id) AS total_weight
    FROM intermediate.client_risk_factors
),

scored AS (
    SELECT
        client_id,
        round(sum(score * weight) / any_value(weight_with_data), 1) AS score,
        round(coalesce(any_value(weight_with_data), 0) / any_value(total_weight), 2) AS coverage,
        coalesce(bool_or(score >= critical_at), false) AS critical,
        list({
            'factor': factor, 'area': area, 'raw_value': raw_value, 'evidence': evidence,
            'score': score, 'weight': weight,
            'contribution': round(score * weight / weight_with_data, 2)
        } ORDER BY score * weight DESC NULLS LAST, factor) AS factors,
        -- a critical factor past its mark first: it alone may have put the client at risk;
        -- ties by factor, the same order every build
        list(evidence ORDER BY coalesce(score >= critical_at, false) DESC, score * weight DESC,
            factor) FILTER (WHERE score >= 50 OR score >= critical_at) AS reasons
    FROM weighted
    GROUP BY client_id
)

SELECT
    st.client_id,
    CAST(date_trunc('week', timezone(getvariable('agency_timezone'), getvariable('as_of')))
        AS DATE) AS week_start,
    getvariable('as_of') AS as_of,
    CASE WHEN st.lost_on IS NULL THEN 'active' ELSE 'lost' END AS status,
    st.started_on,
    st.lost_on,
    coalesce(st.lost_on > CAST(timezone(getvariable('agency_timezone'), getvariable('as_of'))
        AS DATE) - getvariable('lost_recently_days'), false) AS lost_recently,
    sc.score,
    sc.coverage,
    CASE
        WHEN st.lost_on IS NOT NULL OR sc.score IS NULL THEN NULL
        WHEN sc.critical OR sc.score >= getvariable('risk_at_risk_at') THEN 'at_risk'
        WHEN sc.score >= getvariable('risk_watch_at') THEN 'watch'
        ELSE 'healthy'
    END AS band,
    st.lost_on IS NULL AND coalesce(sc.critical OR sc.score >= getvariable('risk_at_risk_at'),
        false) AS at_risk,
    sc.factors,
    coalesce(sc.reasons[1:3], []) AS reasons,
    h.threshold_rule_flagged
FROM status AS st
LEFT JOIN scored AS sc USING (client_id)
LEFT JOIN intermediate.client_threshold_rule AS h USING (client_id)

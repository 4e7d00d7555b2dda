-- Every week's segment and strategy per client (marts.client_segment as of the week's
-- build), kept from build to build (incremental on week_start), so a change of strategy
-- can be told (marts.client_strategy_changes).
SELECT
    client_id,
    CAST(date_trunc('week', timezone(getvariable('agency_timezone'), getvariable('as_of')))
        AS DATE) AS week_start,
    segment,
    strategy_key,
    strategy,
    getvariable('as_of') AS as_of
FROM marts.client_segment

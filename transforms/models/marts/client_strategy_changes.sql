-- Clients whose strategy this week differs from the one of the latest earlier week on
-- record (marts.client_segment_weekly); none before a second week is held.
WITH weeks AS (
    SELECT max(week_start) AS this_week FROM marts.client_segment_weekly
),

previous AS (
    SELECT max(week_start) AS week_start
    FROM marts.client_segment_weekly
    WHERE week_start < (SELECT this_week FROM weeks)
)

SELECT
    n.client_id,
    c.client_name,
    n.week_start,
    p.week_start AS previous_week_start,
    p.strategy_key AS previous_strategy_key,
    n.strategy_key
FROM marts.client_segment_weekly AS n
JOIN marts.client_segment_weekly AS p
    ON p.client_id = n.client_id AND p.week_start = (SELECT week_start FROM previous)
JOIN staging.cfg_clients AS c ON c.client_id = n.client_id
WHERE n.week_start = (SELECT this_week FROM weeks)
    AND n.strategy_key IS DISTINCT FROM p.strategy_key

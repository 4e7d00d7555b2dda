-- Clients per strategy this build (marts.client_segment), strategy NULL for clients
-- without enough data to segment, with how many moved into it since the week before
-- (marts.client_strategy_changes).
SELECT
    s.strategy_key,
    any_value(s.strategy) AS strategy,
    count(*) AS clients,
    count(ch.client_id) AS changed_in
FROM marts.client_segment AS s
LEFT JOIN marts.client_strategy_changes AS ch USING (client_id)
GROUP BY s.strategy_key

-- Client segmentation (docs/domain.md §6): commercial attractiveness and relationship depth,
-- each the weighted mean of its inputs' scores (0-100) over the inputs that have data
-- (`*_coverage` = the share of the axis's weight that had data), banded by
-- `signals.segmentation.<axis>.high_at` / `medium_at`, and the strategy for the pair.
-- docs/domain.md §6 names six pairs; the other three follow its logic and are flagged
-- `strategy_from_domain = false`. The inputs behind each score are listed as
-- `name=value (source) → score`.
WITH axes AS (
    SELECT
        client_id,
        axis,
        round(sum(weight * score) / sum(weight) FILTER (WHERE score IS NOT NULL), 1) AS score,
        round(sum(weight) FILTER (WHERE score IS NOT NULL) / sum(weight), 2) AS coverage,
        list(
            input_name || '=' || CASE
                WHEN value IS NULL THEN 'no data'
                WHEN value = round(value) THEN CAST(CAST(value AS BIGINT) AS VARCHAR)
                ELSE CAST(round(value, 4) AS VARCHAR)
            END
            || coalesce(' (' || value_source || ') → ' || score, '')
            ORDER BY input_name
        ) AS inputs
    FROM intermediate.client_segment_inputs
    GROUP BY client_id, axis
),

banded AS (
    SELECT
        c.client_id,
        c.client_name,
        c.account_manager_name,
        a.score AS attractiveness_score,
        a.coverage AS attractiveness_coverage,
        CASE
            WHEN a.score >= getvariable('attractiveness_high_at') THEN 'high'
            WHEN a.score >= getvariable('attractiveness_medium_at') THEN 'medium'
            WHEN a.score IS NOT NULL THEN 'low'
        END AS attractiveness,
        r.score AS relationship_score,
        r.coverage AS relationship_coverage,
        CASE
            WHEN r.score >= getvariable('relationship_high_at') THEN 'excellent'
            WHEN r.score >= getvariable('relationship_medium_at') THEN 'medium'
            WHEN r.score IS NOT NULL THEN 'poor'
        END AS relationship,
        a.inputs AS attractiveness_inputs,
        r.inputs AS relationship_inputs
    FROM staging.cfg_clients AS c
    LEFT JOIN axes AS a ON a.client_id = c.client_id AND a.axis = 'attractiveness'
    LEFT JOIN axes AS r ON r.client_id = c.client_id AND r.axis = 'relationship'
),

strategies AS (
    SELECT *
    FROM (
        VALUES
        ('high', 'excellent', 'strengthen', 'strengthen the partnership', true),
        ('high', 'medium', 'invest', 'invest actively: relationship quality can grow revenue a lot', true),
        ('high', 'poor', 'invest', 'invest actively: relationship quality can grow revenue a lot', false),
        ('medium', 'excellent', 'invest_loyal', 'invest in the most loyal and interesting', true),
        ('medium', 'medium', 'protect', 'protect current income, focus the client on the agency', true),
        ('medium', 'poor', 'earn', 'earn as much as possible; the client will leave sooner or later', true),
        ('low', 'excellent', 'protect', 'protect current income, focus the client on the agency', false),
        ('low', 'medium', 'earn', 'earn as much as possible; the client will leave sooner or later', false),
        ('low', 'poor', 'consider_ending', 'consider ending the relationship', true)
    ) AS t (attractiveness, relationship, strategy_key, strategy, strategy_from_domain)
)

SELECT
    b.client_id,
    b.client_name,
    b.account_manager_name,
    b.attractiveness,
    b.relationship,
    b.attractiveness || ' / ' || b.relationship AS segment,
    s.strategy_key,
    s.strategy,
    s.strategy_from_domain,
    b.attractiveness_score,
    b.attractiveness_coverage,
    b.relationship_score,
    b.relationship_coverage,
    b.attractiveness_inputs,
    b.relationship_inputs,
    getvariable('as_of') AS as_of
FROM banded AS b
LEFT JOIN strategies AS s USING (attractiveness, relationship)

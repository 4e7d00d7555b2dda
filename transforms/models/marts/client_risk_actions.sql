-- The latest week's at-risk clients, highest score first: owner, score, the two factors
-- adding most points to the score (marts.client_risk_weekly.factors) with their evidence.
-- The suggested next step for the first of them is the playbook's (config/playbook.yaml,
-- docs/domain.md §2, §4, §5, §8), in the reader's language. Lost clients are never at risk.
WITH this_week AS (
    SELECT r.*
    FROM marts.client_risk_weekly AS r
    WHERE r.week_start = (SELECT max(week_start) FROM marts.client_risk_weekly) AND r.at_risk
),

ranked_factors AS (
    SELECT
        client_id,
        f.factor,
        f.evidence,
        row_number() OVER (PARTITION BY client_id ORDER BY f.contribution DESC, f.factor) AS n
    FROM (SELECT client_id, unnest(factors) AS f FROM this_week)
    WHERE f.contribution > 0
)

SELECT
    w.client_id,
    c.client_name,
    c.account_manager_name,
    w.week_start,
    row_number() OVER (ORDER BY w.score DESC, c.client_name) AS risk_rank,
    w.score,
    w.score_change_1w,
    w.coverage,
    f1.factor AS top_factor,
    f1.evidence AS top_factor_evidence,
    f2.factor AS second_factor,
    f2.evidence AS second_factor_evidence
FROM this_week AS w
JOIN staging.cfg_clients AS c USING (client_id)
LEFT JOIN ranked_factors AS f1 ON f1.client_id = w.client_id AND f1.n = 1
LEFT JOIN ranked_factors AS f2 ON f2.client_id = w.client_id AND f2.n = 2

-- The latest week's at-risk clients, highest score first: owner, score, the two factors
-- adding most points to the score (marts.client_risk_weekly.factors) and the suggested
-- next step for the first of them (docs/domain.md §2, §4, §5, §8). Lost clients are never at risk.
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
),

actions AS (
    SELECT *
    FROM (
        VALUES
        ('first_reply_compliance', 'answer new client threads within the first-reply target; check who covers the inbox'),
        ('next_reply_compliance', 'pick up the open threads; move long email back-and-forth to a call'),
        ('unanswered_past_target', 'reply today to the client mail waiting past its target'),
        ('on_time_rate', 'review the delivery plan with the team and reset dates with the client openly'),
        ('silent_slips', 'call the client about the slipped tasks; announce every moved date before it passes'),
        ('open_overdue_tasks', 'close or re-plan the overdue tasks and tell the client the new dates'),
        ('revision_rounds', 'agree acceptance criteria before the next delivery'),
        ('contact_vs_cadence', 'book the agreed check-in: the contact cadence is not being met'),
        ('contact_vs_baseline', 'call the client: contact has fallen below its usual rhythm'),
        ('contact_gap', 'get in touch this week by call or meeting, not only email'),
        ('on_site_gap', 'plan an on-site visit'),
        ('revenue_qoq', 'review scope and budget with the client: revenue is falling'),
        ('revenue_yoy', 'review scope and budget with the client: revenue is below last year'),
        ('lost_deals', 'ask why the last deal was lost and propose a smaller next step'),
        ('no_repeat_order', 'propose the next engagement before the current one ends'),
        ('active_contacts', 'widen the relationship: meet more people at the client'),
        ('senior_contacts', 'find a senior sponsor on the client side')
    ) AS t (factor, suggested_action)
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
    f2.evidence AS second_factor_evidence,
    coalesce(a.suggested_action, 'review the account with its manager this week')
        AS suggested_action
FROM this_week AS w
JOIN staging.cfg_clients AS c USING (client_id)
LEFT JOIN ranked_factors AS f1 ON f1.client_id = w.client_id AND f1.n = 1
LEFT JOIN ranked_factors AS f2 ON f2.client_id = w.client_id AND f2.n = 2
LEFT JOIN actions AS a ON a.factor = f1.factor

-- One row per client and risk factor as of as_of: the factor's raw value, its evidence
-- (a JSON object: a catalog `key` and the figures and names the sentence needs; the words
-- are rendered per language in Python, clientpulse/reports/evidence.py), and its risk sub-score 0–100 (0 = no sign of risk, 100 = as bad as it
-- gets), NULL where the client has no data for it (then it carries no weight).
-- Each factor reads the one model that owns its metric; every window ends at as_of, so a
-- past week's factors use only what was known then. Areas (docs/domain.md §2, §4, §5, §8):
--   responsiveness  first_reply_compliance, next_reply_compliance (over the
--                   `risk_reply_window_days`, counted only from `risk_min_measurements`
--                   decided waits), unanswered_past_target (client mail unanswered and
--                   already past its target now)
--   delivery        on_time_rate, silent_slips, revision_rounds (over the last
--                   `risk_delivery_weeks` weeks), open_overdue_tasks (now)
--   contact         contact_vs_cadence (two-way exchanges a week over the last
--                   `risk_contact_recent_weeks` weeks against the agreed cadence),
--                   contact_vs_baseline (the deepest recent fall against the client's own
--                   weekly counts, the agency's season and the manager's absences, as a z:
--                   intermediate.client_contact_fall), contact_gap (business days since
--                   the last exchange against the cadence), on_site_gap (no visit for
--                   over a month, where the agency visits this client)
--   commercial      revenue_qoq, revenue_yoy (trailing quarter against the one before
--                   and the same quarter a year ago), lost_deals (the client's renewal or
--                   retainer lost in the last 90 days, not any proposal),
--                   no_repeat_order (storm: past the honeymoon without a repeat order),
--                   overdue_receivables (core.client_receivables against monthly billing)
--   relationship    active_contacts, senior_contacts (people at the client on an
--                   activity lately), key_contact_left (a report recipient or listed
--                   contact gone: their mail bounces and no word since), open_conflict
--                   (intermediate.client_conflicts), detractor (intermediate.client_nps)
WITH clients AS (
    SELECT
        client_id,
        contact_cadence_days,
        CAST(date_trunc('week', timezone(getvariable('agency_timezone'), getvariable('as_of')))
            AS DATE) AS this_week
    FROM staging.cfg_clients
),

replies AS (
    SELECT client_id, metric, achieved, decided, unanswered_past_target
    FROM intermediate.reply_compliance
    WHERE grain = 'client' AND period = 'days'
        AND window_days = getvariable('risk_reply_window_days')
),

responsiveness AS (
    SELECT
        c.client_id,
        m.metric || '_compliance' AS factor,
        r.achieved / nullif(r.decided, 0) AS raw_value,
        json_object('key', 'replies_on_time', 'achieved', coalesce(r.achieved, 0),
            'decided', coalesce(r.decided, 0), 'days', getvariable('risk_reply_window_days'))
            AS evidence,
        CASE WHEN r.decided >= getvariable('risk_min_measurements')
            THEN greatest(0, least(100, (0.95 - r.achieved / r.decided) / 0.45 * 100)) END
            AS score
    FROM clients AS c
    CROSS JOIN (VALUES ('first_reply'), ('next_reply')) AS m (metric)
    LEFT JOIN replies AS r ON r.client_id = c.client_id AND r.metric = m.metric

    UNION ALL

    SELECT
        c.client_id,
        'unanswered_past_target',
        CAST(coalesce(sum(r.unanswered_past_target), 0) AS BIGINT),
        json_object('key', 'unanswered_past_target',
            'count', coalesce(sum(r.unanswered_past_target), 0)),
        least(100, 15 * coalesce(sum(r.unanswered_past_target), 0))
    FROM clients AS c
    LEFT JOIN replies AS r USING (client_id)
    GROUP BY c.client_id
),

delivery_window AS (
    SELECT
        c.client_id,
        sum(d.completed_tasks) AS completed,
        sum(d.on_time_rate * d.completed_tasks) AS on_time,
        sum(d.silent_slips) AS silent_slips,
        sum(d.revision_rounds) AS revision_rounds,
        count(d.week_start) AS weeks_with_tasks
    FROM clients AS c
    LEFT JOIN core.client_delivery_weekly AS d
        ON d.client_id = c.client_id
        AND d.week_start > c.this_week - 7 * getvariable('risk_delivery_weeks')
        AND d.week_start <= c.this_week
    GROUP BY c.client_id
),

delivery AS (
    SELECT
        client_id,
        'on_time_rate',
        on_time / nullif(completed, 0),
        json_object('key', 'tasks_on_time', 'on_time', CAST(round(on_time) AS BIGINT),
            'completed', coalesce(completed, 0), 'weeks', getvariable('risk_delivery_weeks')),
        CASE WHEN completed >= 3
            THEN greatest(0, least(100, (0.9 - on_time / completed) / 0.5 * 100)) END
    FROM delivery_window

    UNION ALL

    -- each silent slip (docs/domain.md §2) adds 10 points, each revision round 15
    SELECT
        w.client_id, f.factor, f.n,
        json_object('key', f.factor, 'count', f.n, 'weeks', getvariable('risk_delivery_weeks')),
        CASE WHEN w.weeks_with_tasks > 0 THEN least(100, f.points * f.n) END
    FROM delivery_window AS w,
        LATERAL (VALUES ('silent_slips', w.silent_slips, 10),
            ('revision_rounds', w.revision_rounds, 15)) AS f (factor, n, points)

    UNION ALL

    SELECT
        c.client_id, 'open_overdue_tasks', o.open_overdue_tasks,
        json_object('key', 'open_overdue_tasks', 'count', o.open_overdue_tasks),
        CASE WHEN o.open_tasks > 0 OR o.open_overdue_tasks > 0
            THEN least(100, 20 * o.open_overdue_tasks) ELSE 0 END
    FROM clients AS c
    JOIN intermediate.client_overdue_tasks AS o USING (client_id)
),

-- The recent window counts only where the mail on record covers it: before the first
-- message the warehouse holds, silence is missing data, not a client gone quiet.
mail_from AS (
    SELECT min(sent_at) AS first_message_at FROM staging.email_messages
),

exchange_rates AS (
    SELECT
        c.client_id,
        c.contact_cadence_days,
        CASE WHEN any_value(m.first_message_at)
            <= getvariable('as_of') - to_days(7 * getvariable('risk_contact_recent_weeks')) THEN
            count(e.occurred_at) FILTER (WHERE e.occurred_at > getvariable('as_of')
                - to_days(7 * getvariable('risk_contact_recent_weeks')))
            / getvariable('risk_contact_recent_weeks') END AS recent_per_week,
        7.0 / c.contact_cadence_days AS expected_per_week,
        max(e.occurred_at) AS last_exchange_at
    FROM clients AS c
    CROSS JOIN mail_from AS m
    LEFT JOIN intermediate.client_exchanges AS e USING (client_id)
    GROUP BY c.client_id, c.contact_cadence_days
),

business_gap AS (
    SELECT
        r.client_id,
        count(h.local_day) AS business_days
    FROM exchange_rates AS r
    LEFT JOIN core.client_business_hours AS h
        ON h.client_id = r.client_id
        AND h.opens_at > r.last_exchange_at
        AND h.opens_at <= getvariable('as_of')
    WHERE r.last_exchange_at IS NOT NULL
    GROUP BY r.client_id
),

contact AS (
    SELECT
        client_id, 'contact_vs_cadence', round(recent_per_week, 2),
        json_object('key', 'contact_vs_cadence', 'per_week', round(recent_per_week, 1),
            'expected_per_week', round(expected_per_week, 1)),
        CASE WHEN recent_per_week IS NOT NULL  -- least/greatest skip NULLs: guard them
            THEN greatest(0, least(100, (1 - recent_per_week / expected_per_week) * 100)) END
    FROM exchange_rates

    UNION ALL

    -- the fall's z against the client's own noise, the agency's season and the manager's
    -- absences (intermediate.client_contact_fall), scaled from `risk_contact_fall_z_from`
    -- (0) to `risk_contact_fall_z_full` (100)
    SELECT
        client_id, 'contact_vs_baseline', fall_z,
        CASE WHEN fall_z > 0 THEN json_object('key', 'contact_fall', 'observed', observed,
            'weeks', run_weeks, 'expected', round(expected, 1),
            'usual_per_week', round(usual_per_week, 1), 'away_weeks', manager_away_weeks,
            'z', round(fall_z, 1))
            ELSE json_object('key', 'contact_as_usual', 'usual_per_week', round(usual_per_week, 1))
        END,
        CASE WHEN fall_z IS NOT NULL THEN greatest(0, least(100,
            (fall_z - getvariable('risk_contact_fall_z_from'))
            / (getvariable('risk_contact_fall_z_full') - getvariable('risk_contact_fall_z_from'))
            * 100)) END
    FROM intermediate.client_contact_fall

    UNION ALL

    SELECT
        r.client_id, 'contact_gap', g.business_days,
        CASE WHEN g.business_days IS NULL THEN json_object('key', 'no_contact_on_record')
            ELSE json_object('key', 'contact_gap', 'business_days', g.business_days,
                'cadence_days', r.contact_cadence_days) END,
        CASE WHEN g.business_days IS NOT NULL THEN greatest(0, least(100,
            (g.business_days / (r.contact_cadence_days * 5.0 / 7) - 1) / 2 * 100)) END
    FROM exchange_rates AS r
    LEFT JOIN business_gap AS g USING (client_id)

    UNION ALL

    SELECT
        client_id, 'on_site_gap', days_since_on_site,
        json_object('key', 'on_site_gap', 'days', days_since_on_site),
        CASE WHEN last_on_site_at IS NOT NULL
            THEN greatest(0, least(100, (days_since_on_site - 30) / 60.0 * 100)) END
    FROM core.client_relationship
),

quarters AS (
    SELECT
        c.client_id,
        sum(m.revenue) FILTER (WHERE m.month > today - INTERVAL 3 MONTH) AS last_quarter,
        sum(m.revenue) FILTER (
            WHERE m.month > today - INTERVAL 6 MONTH AND m.month <= today - INTERVAL 3 MONTH)
            AS prior_quarter,
        sum(m.revenue) FILTER (
            WHERE m.month > today - INTERVAL 15 MONTH AND m.month <= today - INTERVAL 12 MONTH)
            AS quarter_last_year
    FROM clients AS c
    CROSS JOIN (SELECT CAST(timezone(getvariable('agency_timezone'), getvariable('as_of')) AS DATE)
        AS today)
    LEFT JOIN core.client_commercial_monthly AS m USING (client_id)
    GROUP BY c.client_id
),

commercial AS (
    SELECT
        client_id, 'revenue_qoq', round(last_quarter / nullif(prior_quarter, 0) - 1, 3),
        json_object('key', 'revenue_qoq', 'this_quarter', coalesce(last_quarter, 0),
            'quarter_before', prior_quarter),
        CASE WHEN prior_quarter > 0
            THEN greatest(0, least(100, -(coalesce(last_quarter, 0) / prior_quarter - 1) * 200))
        END
    FROM quarters

    UNION ALL

    SELECT
        client_id, 'revenue_yoy', round(last_quarter / nullif(quarter_last_year, 0) - 1, 3),
        json_object('key', 'revenue_yoy', 'this_quarter', coalesce(last_quarter, 0),
            'year_ago', quarter_last_year),
        CASE WHEN quarter_last_year > 0 THEN greatest(0, least(100,
            -(coalesce(last_quarter, 0) / quarter_last_year - 1) * 200)) END
    FROM quarters

    UNION ALL

    -- only the client's renewal or retainer counts (intermediate.client_lost_renewals): a
    -- lost proposal from a client who stays is no sign of leaving
    SELECT
        c.client_id, 'lost_deals', count(r.deal_id),
        CASE WHEN count(r.deal_id) = 0 THEN json_object('key', 'no_renewal_lost', 'days', 90)
            ELSE json_object('key', 'renewals_lost', 'deals', list({
                'lost_on': CAST(r.closed_at AS DATE), 'deal_id': r.deal_id,
                'name': r.deal_name, 'amount': r.amount, 'times_won': r.like_deals_won,
                'last_won_on': CAST(r.last_like_won_at AS DATE)
            } ORDER BY r.closed_at, r.deal_id)) END,
        CASE WHEN k.client_id IS NOT NULL THEN least(100, 100 * count(r.deal_id)) END
    FROM clients AS c
    LEFT JOIN (
        SELECT DISTINCT client_id FROM staging.crm_deals WHERE created_at <= getvariable('as_of')
    ) AS k USING (client_id)
    LEFT JOIN intermediate.client_lost_renewals AS r
        ON r.client_id = c.client_id AND r.is_renewal
    GROUP BY c.client_id, k.client_id

    UNION ALL

    SELECT
        client_id, 'no_repeat_order', CAST(lifecycle_stage = 'storm' AS INTEGER),
        json_object('key', 'lifecycle_stage', 'stage', lifecycle_stage),
        CASE WHEN lifecycle_stage IS NOT NULL
            THEN CASE WHEN lifecycle_stage = 'storm' THEN 60 ELSE 0 END END
    FROM core.dim_client

    UNION ALL

    -- overdue invoices against the client's usual monthly billing (the currency with the
    -- most months overdue): 0 at half a month, 100 at two; nothing invoiced, no data
    SELECT
        c.client_id, 'overdue_receivables', r.overdue_to_monthly_billing,
        CASE WHEN r.overdue_amount > 0
            THEN json_object('key', 'overdue_receivables', 'amount', r.overdue_amount,
                'currency', nullif(r.currency, ''), 'days', r.oldest_overdue_days,
                'months', r.overdue_to_monthly_billing)
            ELSE json_object('key', 'nothing_overdue') END,
        CASE WHEN r.client_id IS NOT NULL
            THEN greatest(0, least(100, (r.overdue_to_monthly_billing - 0.5) / 1.5 * 100)) END
    FROM clients AS c
    LEFT JOIN (
        SELECT *
        FROM core.client_receivables
        WHERE monthly_billing > 0
        QUALIFY row_number() OVER (
            PARTITION BY client_id ORDER BY overdue_to_monthly_billing DESC, currency
        ) = 1
    ) AS r USING (client_id)
),

relationship AS (
    SELECT
        client_id, 'active_contacts', active_contacts,
        json_object('key', 'active_contacts', 'active', active_contacts, 'contacts', contacts),
        CASE WHEN contacts > 0 THEN greatest(0, 100 - 50 * active_contacts) END
    FROM core.client_relationship

    UNION ALL

    SELECT
        client_id, 'senior_contacts', senior_contacts,
        json_object('key', 'senior_contacts', 'count', senior_contacts),
        CASE WHEN contacts > 0 THEN CASE WHEN senior_contacts > 0 THEN 0 ELSE 50 END END
    FROM core.client_relationship

    UNION ALL

    -- 100 once someone the agency reports to has left, 50 for another named contact
    SELECT
        c.client_id, 'key_contact_left', count(n.left_noticed_at),
        CASE WHEN count(n.left_noticed_at) = 0 THEN json_object('key', 'no_contact_left')
            ELSE json_object('key', 'contacts_left', 'contacts', list({
                'address': n.address, 'bounced_on': CAST(n.left_noticed_at AS DATE)
            } ORDER BY n.left_noticed_at, n.address)
                FILTER (WHERE n.left_noticed_at IS NOT NULL)) END,
        CASE WHEN count(n.address) > 0 THEN CASE
            WHEN bool_or(n.receives_reports AND n.left_noticed_at IS NOT NULL) THEN 100
            WHEN count(n.left_noticed_at) > 0 THEN 50
            ELSE 0
        END END
    FROM clients AS c
    LEFT JOIN intermediate.client_named_contacts AS n USING (client_id)
    GROUP BY c.client_id

    UNION ALL

    -- an open written conflict (intermediate.client_conflicts): 100 once open
    -- `conflict_critical_after_days`, 50 before; the longest open one is the evidence
    SELECT
        c.client_id, 'open_conflict', max(k.open_days),
        CASE WHEN count(k.conversation_id) = 0 THEN json_object('key', 'no_open_conflict')
            ELSE json_object('key', 'open_conflict',
                'subject', arg_max(k.subject, k.open_days),
                'since', CAST(arg_max(k.started_at, k.open_days) AS DATE),
                'days', max(k.open_days),
                'copied', arg_max(k.copied_people, k.open_days)) END,
        CASE
            WHEN max(k.open_days) >= getvariable('conflict_critical_after_days') THEN 100
            WHEN count(k.conversation_id) > 0 THEN 50
            ELSE 0
        END
    FROM clients AS c
    LEFT JOIN intermediate.client_conflicts AS k ON k.client_id = c.client_id AND k.is_open
    GROUP BY c.client_id

    UNION ALL

    -- a detractor (NPS 0–6) among the client's current voices in the last 90 days
    -- (intermediate.client_nps); clients without answers have no data
    SELECT
        c.client_id, 'detractor', n.recent_detractor_score,
        CASE WHEN n.recent_detractor_score IS NULL THEN json_object('key', 'no_detractor')
            ELSE json_object('key', 'detractor_answer', 'score', n.recent_detractor_score,
                'on', CAST(n.recent_detractor_at AS DATE), 'contact', n.recent_detractor_contact)
        END,
        CASE WHEN n.client_id IS NOT NULL
            THEN CASE WHEN n.recent_detractor_score IS NULL THEN 0 ELSE 100 END END
    FROM clients AS c
    LEFT JOIN intermediate.client_nps AS n USING (client_id)
),

factors (area, client_id, factor, raw_value, evidence, score) AS (
    SELECT 'responsiveness', * FROM responsiveness
    UNION ALL SELECT 'delivery', * FROM delivery
    UNION ALL SELECT 'contact', * FROM contact
    UNION ALL SELECT 'commercial', * FROM commercial
    UNION ALL SELECT 'relationship', * FROM relationship
)

SELECT
    f.client_id,
    f.area,
    f.factor,
    CAST(f.raw_value AS DOUBLE) AS raw_value,
    f.evidence,
    round(CAST(f.score AS DOUBLE), 1) AS score,
    w.weight,
    w.critical_at
FROM factors AS f
JOIN staging.cfg_risk_factors AS w USING (factor)

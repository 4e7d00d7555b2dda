-- One row per configured client: who owns it (account manager, CRM owner), its CRM
-- company, its deal history (first won deal, repeat order, whether the repeat was
-- larger, the last lost deal), and its lifecycle stage (docs/domain.md §5) as of the build:
--   prospect       no won deal yet (or, without CRM data, `stage: prospect` in config)
--   honeymoon      within `signals.lifecycle.honeymoon_days` of the first won deal
--   storm          past the honeymoon, no repeat order yet: trust is decided here
--   normalization  came back with a repeat order, within `support_after_days` of the first
--   support        a repeat client for longer than that
-- `lifecycle_stage` is NULL for a customer with no CRM data.
WITH today AS (
    SELECT CAST(timezone(getvariable('agency_timezone'), getvariable('as_of')) AS DATE) AS d
),

won AS (
    SELECT
        client_id,
        amount,
        close_date,
        row_number() OVER (PARTITION BY client_id ORDER BY close_date, deal_id) AS n
    FROM staging.crm_deals, today
    WHERE is_won AND client_id IS NOT NULL AND close_date <= today.d
),

deals AS (
    SELECT
        client_id,
        count(*) AS won_deals,
        sum(amount) AS lifetime_revenue,
        min(close_date) AS first_deal_date,
        min(close_date) FILTER (WHERE n = 2) AS repeat_order_date,
        max(close_date) AS last_won_date,
        max(amount) FILTER (WHERE n = 2) > max(amount) FILTER (WHERE n = 1) AS repeat_order_larger
    FROM won
    GROUP BY client_id
),

lost AS (
    -- deals lost by as_of (by when they were closed: a later loss must not leak back)
    SELECT client_id, max(CAST(timezone(getvariable('agency_timezone'), closed_at) AS DATE))
        AS last_lost_date
    FROM staging.crm_deals
    WHERE is_lost AND client_id IS NOT NULL AND closed_at <= getvariable('as_of')
    GROUP BY client_id
),

open_deals AS (
    SELECT client_id, count(*) AS open_deals, sum(amount) AS open_pipeline
    FROM staging.crm_deals
    -- open at as_of: created by then and not yet won or lost then (a deal closed later
    -- was still open; its current stage must not leak into a past week)
    WHERE client_id IS NOT NULL AND created_at <= getvariable('as_of')
        AND (NOT (is_won OR is_lost) OR coalesce(closed_at, updated_at) > getvariable('as_of'))
    GROUP BY client_id
)

SELECT
    c.client_id,
    c.client_name,
    c.account_manager_id,
    c.account_manager_name,
    c.tier,
    c.stage AS config_stage,
    c.crm_company_id,
    k.company_name AS crm_company_name,
    o.owner_name AS crm_owner_name,
    o.account_manager_id AS crm_owner_account_manager_id,
    k.company_id IS NOT NULL AS has_crm,
    d.first_deal_date,
    d.last_won_date,
    l.last_lost_date,
    coalesce(d.won_deals, 0) AS won_deals,
    coalesce(d.lifetime_revenue, 0) AS lifetime_revenue,
    coalesce(d.won_deals, 0) >= 2 AS repeat_order,
    d.repeat_order_date,
    d.repeat_order_larger,
    coalesce(p.open_deals, 0) AS open_deals,
    coalesce(p.open_pipeline, 0) AS open_pipeline,
    CASE
        WHEN k.company_id IS NULL THEN CASE WHEN c.stage = 'prospect' THEN 'prospect' END
        WHEN d.first_deal_date IS NULL THEN 'prospect'
        WHEN today.d - d.first_deal_date < getvariable('honeymoon_days') THEN 'honeymoon'
        WHEN d.repeat_order_date IS NULL THEN 'storm'
        WHEN today.d - d.first_deal_date < getvariable('support_after_days') THEN 'normalization'
        ELSE 'support'
    END AS lifecycle_stage
FROM staging.cfg_clients AS c
CROSS JOIN today
LEFT JOIN staging.crm_companies AS k ON k.company_id = c.crm_company_id
LEFT JOIN staging.crm_owners AS o ON o.owner_id = k.owner_id
LEFT JOIN deals AS d ON d.client_id = c.client_id
LEFT JOIN lost AS l ON l.client_id = c.client_id
LEFT JOIN open_deals AS p ON p.client_id = c.client_id

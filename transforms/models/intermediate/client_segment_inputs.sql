-- Every configured segmentation input (`signals.segmentation`) for every client, in
-- long form, so each segment shows what it was made of: the value, where it came from
-- (`metric:<name>` computed from the CRM marts, `crm:<property>` a company property,
-- or `config` — the client's `segment_inputs` value where the CRM has none), and its
-- 0-100 score: linear from `zero_at` (0) to `full_at` (100), clipped.
WITH today AS (
    SELECT CAST(timezone(getvariable('agency_timezone'), getvariable('as_of')) AS DATE) AS d
),

metrics AS (
    SELECT
        d.client_id,
        CAST(coalesce(m.revenue_ttm, 0) AS DOUBLE) AS revenue_ttm,
        CAST(m.revenue_ttm_growth_yoy AS DOUBLE) AS revenue_growth_yoy,
        CAST(m.revenue_ttm / nullif(m.won_deals_ttm, 0) AS DOUBLE) AS average_deal_ttm,
        CAST(d.won_deals AS DOUBLE) AS won_deals,
        CAST(date_diff('month', d.first_deal_date, today.d) AS DOUBLE) AS tenure_months,
        CAST(r.active_contacts AS DOUBLE) AS active_contacts,
        CAST(r.senior_contacts AS DOUBLE) AS senior_contacts,
        CAST(r.meetings_90d AS DOUBLE) AS meetings_90d,
        CAST(r.on_site_months_90d AS DOUBLE) AS on_site_months_90d,
        CAST(m.share_of_wallet AS DOUBLE) AS share_of_wallet
    FROM core.dim_client AS d
    CROSS JOIN today
    LEFT JOIN core.client_relationship AS r USING (client_id)
    LEFT JOIN core.client_commercial_monthly AS m
        ON m.client_id = d.client_id AND m.month = date_trunc('month', today.d)
    WHERE d.has_crm
),

metric_values AS (
    UNPIVOT metrics ON COLUMNS(* EXCLUDE (client_id)) INTO NAME metric VALUE value
),

sourced AS (
    SELECT
        c.client_id,
        i.axis,
        i.input_name,
        i.weight,
        i.zero_at,
        i.full_at,
        CASE
            WHEN i.metric IS NOT NULL THEN mv.value
            WHEN i.crm_property IS NOT NULL THEN TRY_CAST(k.properties ->> i.crm_property AS DOUBLE)
        END AS crm_value,
        coalesce('metric:' || i.metric, 'crm:' || i.crm_property) AS crm_source,
        v.value AS config_value
    FROM staging.cfg_clients AS c
    CROSS JOIN staging.cfg_segment_inputs AS i
    LEFT JOIN metric_values AS mv ON mv.client_id = c.client_id AND mv.metric = i.metric
    LEFT JOIN staging.crm_companies AS k ON k.client_id = c.client_id
    LEFT JOIN staging.cfg_client_segment_values AS v
        ON v.client_id = c.client_id AND v.input_name = i.input_name
)

SELECT
    client_id,
    axis,
    input_name,
    weight,
    coalesce(crm_value, config_value) AS value,
    CASE
        WHEN crm_value IS NOT NULL THEN crm_source
        WHEN config_value IS NOT NULL THEN 'config'
    END AS value_source,
    -- (greatest/least skip NULLs, so clip with CASE: no value, no score)
    round(100 * CASE
        WHEN ratio IS NULL THEN NULL WHEN ratio < 0 THEN 0 WHEN ratio > 1 THEN 1 ELSE ratio
    END, 1) AS score
FROM (
    SELECT *, (coalesce(crm_value, config_value) - zero_at) / (full_at - zero_at) AS ratio
    FROM sourced
)

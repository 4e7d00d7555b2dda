-- Per client and calendar month (agency time zone), from the first month with a won deal
-- to the current one: revenue of the deals won that month, their count and average,
-- the change against the previous month and the same month a year before, the trailing
-- twelve months and their change on a year before, upsell (a won deal larger than the
-- client's previous one) and cross-sell (a won deal in a pipeline the client had not
-- bought in before), and share of wallet where the yearly marketing budget is known
-- (`sources.crm.budget_property` on the company, else `clients[].annual_marketing_budget`).
WITH won AS (
    SELECT
        client_id,
        deal_id,
        amount,
        pipeline,
        close_date,
        date_trunc('month', close_date) AS month,
        amount > lag(amount) OVER (PARTITION BY client_id ORDER BY close_date, deal_id)
            AS is_upsell,
        row_number() OVER (
            PARTITION BY client_id, pipeline ORDER BY close_date, deal_id
        ) = 1 AS first_in_pipeline,
        row_number() OVER (PARTITION BY client_id ORDER BY close_date, deal_id) = 1
            AS first_deal
    FROM staging.crm_deals
    WHERE is_won AND client_id IS NOT NULL AND amount IS NOT NULL
        AND close_date <= CAST(timezone(getvariable('agency_timezone'), getvariable('as_of')) AS DATE)
),

monthly AS (
    SELECT
        client_id,
        month,
        count(*) AS won_deals,
        sum(amount) AS revenue,
        count(*) FILTER (WHERE is_upsell) AS upsell_deals,
        count(*) FILTER (WHERE first_in_pipeline AND NOT first_deal) AS cross_sell_deals
    FROM won
    GROUP BY ALL
),

-- Twelve months of zeros before the first deal, so lags and trailing sums are exact.
grid AS (
    SELECT f.client_id, CAST(g.month AS DATE) AS month, f.first_month
    FROM (SELECT client_id, min(month) AS first_month FROM won GROUP BY client_id) AS f,
        generate_series(
            f.first_month - INTERVAL 12 MONTH,
            date_trunc(
                'month',
                CAST(timezone(getvariable('agency_timezone'), getvariable('as_of')) AS DATE)
            ),
            INTERVAL 1 MONTH
        ) AS g(month)
),

series AS (
    SELECT
        g.client_id,
        g.month,
        g.first_month,
        coalesce(m.won_deals, 0) AS won_deals,
        coalesce(m.revenue, 0) AS revenue,
        coalesce(m.upsell_deals, 0) AS upsell_deals,
        coalesce(m.cross_sell_deals, 0) AS cross_sell_deals
    FROM grid AS g
    LEFT JOIN monthly AS m USING (client_id, month)
),

windowed AS (
    SELECT
        *,
        lag(revenue, 1) OVER w AS revenue_prev_month,
        lag(revenue, 12) OVER w AS revenue_same_month_last_year,
        sum(revenue) OVER (w ROWS BETWEEN 11 PRECEDING AND CURRENT ROW) AS revenue_ttm,
        sum(won_deals) OVER (w ROWS BETWEEN 11 PRECEDING AND CURRENT ROW) AS won_deals_ttm,
        sum(revenue) OVER (w ROWS BETWEEN 23 PRECEDING AND 12 PRECEDING) AS revenue_ttm_year_before
    FROM series
    WINDOW w AS (PARTITION BY client_id ORDER BY month)
),

budgets AS (
    SELECT
        c.client_id,
        coalesce(
            TRY_CAST(k.properties ->> nullif(getvariable('budget_property'), '') AS DOUBLE),
            c.annual_marketing_budget
        ) AS annual_marketing_budget
    FROM staging.cfg_clients AS c
    LEFT JOIN staging.crm_companies AS k USING (client_id)
)

SELECT
    w.client_id,
    w.month,
    w.won_deals,
    w.revenue,
    round(w.revenue / nullif(w.won_deals, 0), 2) AS average_deal,
    w.revenue_prev_month,
    w.revenue - w.revenue_prev_month AS revenue_change_vs_prev_month,
    w.revenue_same_month_last_year,
    w.revenue - w.revenue_same_month_last_year AS revenue_change_yoy,
    w.revenue_ttm,
    w.won_deals_ttm,
    w.revenue_ttm_year_before,
    round(w.revenue_ttm / nullif(w.revenue_ttm_year_before, 0) - 1, 4) AS revenue_ttm_growth_yoy,
    w.upsell_deals,
    w.cross_sell_deals,
    b.annual_marketing_budget,
    round(w.revenue_ttm / b.annual_marketing_budget, 4) AS share_of_wallet
FROM windowed AS w
LEFT JOIN budgets AS b USING (client_id)
WHERE w.month >= w.first_month

-- One row per deal a client lost in the 90 days up to as_of, saying whether it was the
-- client's renewal or retainer rather than one more proposal (docs/risk_detection.md):
-- a renewal repeats a fee the client has paid before, so it is a lost deal whose amount
-- is within `risk_renewal_amount_tolerance` (a share of it: rounding, a small price
-- change) of a deal the client won that closed at least 60 days before this one was lost
-- — the same engagement coming round again. A proposal is priced for its own new work
-- and rarely lands on an earlier fee. Deals without an amount are never renewals.
WITH lost AS (
    SELECT deal_id, client_id, deal_name, amount,
        closed_at
    FROM staging.crm_deals
    WHERE is_lost AND client_id IS NOT NULL AND amount > 0
        AND closed_at <= getvariable('as_of')
        AND closed_at > getvariable('as_of') - INTERVAL 90 DAY
)

SELECT
    l.deal_id,
    l.client_id,
    l.deal_name,
    l.amount,
    l.closed_at,
    count(w.deal_id) > 0 AS is_renewal,
    CAST(count(w.deal_id) AS INTEGER) AS like_deals_won,
    max(w.closed_at) AS last_like_won_at
FROM lost AS l
LEFT JOIN staging.crm_deals AS w
    ON w.client_id = l.client_id AND w.is_won
    AND w.closed_at <= l.closed_at - INTERVAL 60 DAY
    AND abs(w.amount - l.amount) <= getvariable('risk_renewal_amount_tolerance') * l.amount
GROUP BY l.deal_id, l.client_id, l.deal_name, l.amount, l.closed_at

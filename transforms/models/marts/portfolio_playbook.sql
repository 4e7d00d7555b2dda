-- One row: the agency's own playbook, counted over the active clients this week, for the
-- leadership digest (docs/domain.md §5, §7, §8): conflicts still open in client mail
-- (intermediate.client_conflicts), clients with a recent detractor answer
-- (intermediate.client_nps), and overdue receivables per currency (core.client_receivables;
-- never summed across currencies).
WITH active AS (
    SELECT client_id
    FROM marts.client_risk_weekly
    WHERE week_start = (SELECT max(week_start) FROM marts.client_risk_weekly)
        AND status = 'active'
),

overdue AS (
    SELECT
        r.currency,
        sum(r.overdue_amount) AS overdue_amount,
        count(DISTINCT r.client_id) AS clients,
        max(r.oldest_overdue_days) AS oldest_overdue_days
    FROM core.client_receivables AS r
    JOIN active USING (client_id)
    WHERE r.overdue_amount > 0
    GROUP BY r.currency
)

SELECT
    (
        SELECT count(*)
        FROM intermediate.client_conflicts AS f
        JOIN active USING (client_id)
        WHERE f.is_open
    ) AS open_conflicts,
    (
        SELECT count(*)
        FROM intermediate.client_nps AS n
        JOIN active USING (client_id)
        WHERE n.recent_detractor_score IS NOT NULL
    ) AS recent_detractor_clients,
    (
        SELECT count(DISTINCT r.client_id)
        FROM core.client_receivables AS r
        JOIN active USING (client_id)
        WHERE r.overdue_amount > 0
    ) AS overdue_clients,
    coalesce(
        (
            SELECT list(
                {
                    'currency': currency,
                    'overdue_amount': overdue_amount,
                    'clients': clients,
                    'oldest_overdue_days': oldest_overdue_days
                }
                ORDER BY overdue_amount DESC, currency
            )
            FROM overdue
        ),
        []
    ) AS overdue_by_currency

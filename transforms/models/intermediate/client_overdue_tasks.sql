-- Per client: open tasks and open tasks past their due date, on the client's own calendar day.
WITH today AS (
    SELECT client_id, CAST(timezone(timezone, getvariable('as_of')) AS DATE) AS local_date
    FROM staging.cfg_clients
)

SELECT
    d.client_id,
    count(t.task_gid) FILTER (WHERE NOT t.completed) AS open_tasks,
    count(t.task_gid) FILTER (WHERE NOT t.completed AND t.due_on < d.local_date) AS open_overdue_tasks,
    coalesce(max(d.local_date - t.due_on) FILTER (WHERE NOT t.completed AND t.due_on < d.local_date), 0)
        AS max_days_overdue
FROM today AS d
LEFT JOIN staging.asana_tasks AS t
    ON t.client_id = d.client_id AND t.created_at <= getvariable('as_of')
GROUP BY d.client_id

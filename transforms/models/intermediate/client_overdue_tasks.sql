-- Per client: open tasks and open tasks past their due date as of as_of, from each task's
-- state at that time (core.fct_task_delivery: completion, due date in force and section
-- as they were then; cancelled and not-started sections are not open work).
SELECT
    c.client_id,
    count(t.task_gid) FILTER (WHERE t.status IN ('open', 'overdue')) AS open_tasks,
    count(t.task_gid) FILTER (WHERE t.status = 'overdue') AS open_overdue_tasks,
    coalesce(
        max(CAST(timezone(c.timezone, getvariable('as_of')) AS DATE) - t.current_due_on)
            FILTER (WHERE t.status = 'overdue'),
        0
    ) AS max_days_overdue
FROM staging.cfg_clients AS c
LEFT JOIN core.fct_task_delivery AS t USING (client_id)
GROUP BY c.client_id

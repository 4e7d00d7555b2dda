-- Plan of the monthly client report (docs/domain.md §3, Plan-Do-Check-Act): per client, the
-- top-level tasks due in the month of as_of on the client's calendar (by the due date in
-- force at as_of) that are neither done nor cancelled, and its open milestones whatever
-- their date. Hypothesis tasks (staging.asana_tasks.is_hypothesis) are left out: the report
-- tells them in its hypotheses part (marts.client_monthly_hypotheses), not as planned work.
WITH clients AS (
    SELECT
        client_id,
        CAST(date_trunc('month', CAST(timezone(timezone, getvariable('as_of')) AS DATE)) AS DATE)
            AS month_start
    FROM staging.cfg_clients
)

SELECT
    f.client_id,
    c.month_start,
    f.task_gid,
    f.task_name,
    t.project_name,
    f.current_due_on AS due_on,
    t.milestone,
    f.status
FROM core.fct_task_delivery AS f
JOIN clients AS c USING (client_id)
JOIN staging.asana_tasks AS t USING (task_gid)
WHERE f.parent_gid IS NULL
  AND NOT t.is_hypothesis
  AND f.status NOT IN ('done', 'cancelled')
  AND (
      (f.current_due_on >= c.month_start AND f.current_due_on < c.month_start + INTERVAL 1 MONTH)
      OR t.milestone
  )

-- Do of the monthly client report (docs/domain.md §3): per client, the top-level tasks completed
-- in the month before the month of as_of (client's calendar), with the due date in force
-- and whether they were on time (core.fct_task_delivery, as of as_of). Hypothesis tasks
-- (staging.asana_tasks.is_hypothesis) are left out: the report tells them in its hypotheses
-- part (marts.client_monthly_hypotheses), not as delivered work.
SELECT
    f.client_id,
    c.month_start,
    f.task_gid,
    f.task_name,
    t.project_name,
    f.current_due_on AS due_on,
    CAST(timezone(c.timezone, f.completed_at) AS DATE) AS completed_on,
    f.on_time
FROM core.fct_task_delivery AS f
JOIN core.client_report_month AS c USING (client_id)
JOIN staging.asana_tasks AS t USING (task_gid)
WHERE f.parent_gid IS NULL
  AND NOT t.is_hypothesis
  AND f.completed_at IS NOT NULL
  AND CAST(timezone(c.timezone, f.completed_at) AS DATE) >= c.month_start
  AND CAST(timezone(c.timezone, f.completed_at) AS DATE) < c.month_end

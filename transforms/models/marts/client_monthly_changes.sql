-- Act of the monthly client report (docs/domain.md §3: changes to plans): per client, what changed
-- in the month before the month of as_of (client's calendar), with its reason:
-- * date_moved: a top-level task's due date moved later that month (core.fct_task_slips
--   with a new date), with the task's status reason field;
-- * new_task: a top-level task created that month, with its justification field.
-- Hypothesis tasks (staging.asana_tasks.is_hypothesis) are left out: the report tells them,
-- with the day each was set, in its hypotheses part (marts.client_monthly_hypotheses).
SELECT
    s.client_id,
    m.month_start,
    'date_moved' AS change,
    s.task_gid,
    f.task_name,
    t.project_name,
    s.slipped_on AS changed_on,
    s.old_due_on,
    s.new_due_on,
    f.status_reason AS reason
FROM core.fct_task_slips AS s
JOIN core.client_report_month AS m USING (client_id)
JOIN core.fct_task_delivery AS f USING (task_gid)
JOIN staging.asana_tasks AS t USING (task_gid)
WHERE f.parent_gid IS NULL
  AND NOT t.is_hypothesis
  AND s.new_due_on IS NOT NULL
  AND s.slipped_on >= m.month_start AND s.slipped_on < m.month_end

UNION ALL

SELECT
    f.client_id,
    m.month_start,
    'new_task',
    f.task_gid,
    f.task_name,
    t.project_name,
    CAST(timezone(m.timezone, f.created_at) AS DATE),
    NULL,
    f.current_due_on,
    f.justification
FROM core.fct_task_delivery AS f
JOIN core.client_report_month AS m USING (client_id)
JOIN staging.asana_tasks AS t USING (task_gid)
WHERE f.parent_gid IS NULL
  AND NOT t.is_hypothesis
  AND CAST(timezone(m.timezone, f.created_at) AS DATE) >= m.month_start
  AND CAST(timezone(m.timezone, f.created_at) AS DATE) < m.month_end

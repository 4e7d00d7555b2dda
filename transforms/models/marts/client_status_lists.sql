-- The four lists of the weekly client status (docs/domain.md §3) for the client's last full week
-- (Monday to Monday on its calendar, before the week of as_of); top-level tasks only, and
-- ordinary work only: the weekly email has no place for hypotheses, so hypothesis tasks
-- (staging.asana_tasks.is_hypothesis) are left out, as in the monthly report's Plan, Do,
-- Check and Act (its hypotheses part, marts.client_monthly_hypotheses, tells them).
-- * carry_over: open tasks that go on into the coming week (with their due date, and
--   for an overdue one the days since it was due, on the client's calendar);
-- * not_carried_over: done that week (reason `done`), or cancelled (a cancelled section)
--   and last changed that week (reason `cancelled`, with the reason field if set);
-- * not_started: tasks in a not-started section, with the reason field (the report
--   names the section, translated, when there is none);
-- * new: tasks created that week, with why they are needed (the justification field).
-- Each row carries the task's project and section names: the report labels a task with
-- its project when another of the client's listed tasks has the same name.
WITH clients AS (
    SELECT
        client_id,
        timezone,
        CAST(date_trunc('week', CAST(timezone(timezone, getvariable('as_of')) AS DATE)) AS DATE)
            AS week_end,
        CAST(timezone(timezone, getvariable('as_of')) AS DATE) AS today
    FROM staging.cfg_clients
),

tasks AS (
    SELECT
        f.*,
        c.week_end - 7 AS week_start,
        c.week_end,
        c.today,
        CAST(timezone(c.timezone, f.created_at) AS DATE) AS created_on,
        CAST(timezone(c.timezone, f.completed_at) AS DATE) AS completed_on,
        CAST(timezone(c.timezone, t.modified_at) AS DATE) AS modified_on,
        t.project_name
    FROM core.fct_task_delivery AS f
    JOIN clients AS c USING (client_id)
    JOIN staging.asana_tasks AS t USING (task_gid)
    WHERE f.parent_gid IS NULL AND NOT t.is_hypothesis
),

lists AS (

SELECT client_id, 'carry_over' AS list, task_gid, task_name, status AS reason_code,
    CAST(NULL AS VARCHAR) AS reason, current_due_on AS due_on, completed_on,
    CASE WHEN status = 'overdue' THEN date_diff('day', current_due_on, today) END AS days_overdue
FROM tasks
WHERE status IN ('open', 'overdue')

UNION ALL

SELECT client_id, 'not_carried_over', task_gid, task_name, 'done', status_reason,
    current_due_on, completed_on, NULL
FROM tasks
WHERE status = 'done' AND completed_on >= week_start AND completed_on < week_end

UNION ALL

SELECT client_id, 'not_carried_over', task_gid, task_name, 'cancelled', status_reason,
    current_due_on, completed_on, NULL
FROM tasks
WHERE status = 'cancelled' AND modified_on >= week_start AND modified_on < week_end

UNION ALL

SELECT client_id, 'not_started', task_gid, task_name, 'not_started',
    status_reason, current_due_on, completed_on, NULL
FROM tasks
WHERE status = 'not_started'

UNION ALL

SELECT client_id, 'new', task_gid, task_name, status, justification, current_due_on, completed_on,
    NULL
FROM tasks
WHERE created_on >= week_start AND created_on < week_end
)

SELECT l.*, t.project_name, t.section_name
FROM lists AS l
JOIN tasks AS t USING (client_id, task_gid)

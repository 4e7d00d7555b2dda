-- One row per slip of a task's due date (docs/domain.md §2, "hit a wall — tell"), on the
-- client's calendar, up to as_of:
-- * announced: the date was moved later on or before the day it fell;
-- * silent: the date was moved later only after it had passed, or it passed with the
--   task unfinished (or finished later) and was never moved; counted the day after.
WITH clients AS (
    SELECT client_id, timezone, CAST(timezone(timezone, getvariable('as_of')) AS DATE) AS today
    FROM staging.cfg_clients
),

tasks AS (
    SELECT
        t.task_gid,
        t.client_id,
        c.timezone,
        c.today,
        CASE WHEN t.completed AND t.completed_at <= getvariable('as_of')
            THEN CAST(timezone(c.timezone, t.completed_at) AS DATE) END AS completed_on
    FROM staging.asana_tasks AS t
    JOIN clients AS c USING (client_id)
    WHERE t.created_at <= getvariable('as_of')
),

moves AS (
    SELECT
        t.task_gid,
        t.client_id,
        CAST(timezone(t.timezone, s.created_at) AS DATE) AS changed_on,
        s.old_due_on,
        s.new_due_on
    FROM staging.asana_stories AS s
    JOIN tasks AS t USING (task_gid)
    WHERE s.subtype = 'due_date_changed'
      AND s.new_due_on > s.old_due_on
      AND s.created_at <= getvariable('as_of')
),

due_now AS (
    SELECT t.*, p.due_on
    FROM tasks AS t
    JOIN core.asana_due_periods AS p
        ON p.task_gid = t.task_gid
        AND p.valid_from <= getvariable('as_of') AND getvariable('as_of') < p.valid_to
)

SELECT
    task_gid,
    client_id,
    changed_on AS slipped_on,
    CASE WHEN changed_on <= old_due_on THEN 'announced' ELSE 'silent' END AS kind,
    old_due_on,
    new_due_on
FROM moves

UNION ALL

SELECT
    task_gid,
    client_id,
    due_on + 1 AS slipped_on,
    'silent' AS kind,
    due_on AS old_due_on,
    CAST(NULL AS DATE) AS new_due_on
FROM due_now
WHERE due_on < today AND (completed_on IS NULL OR completed_on > due_on)

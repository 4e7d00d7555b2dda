-- Which due date a task had when: one row per period [valid_from, valid_to), cut by its
-- due-date-change stories. Before the first change the task had that change's old
-- date; after the last, its new date (or, with no change at all, the task's due date).
WITH changes AS (
    SELECT
        task_gid,
        created_at,
        old_due_on,
        new_due_on,
        row_number() OVER (PARTITION BY task_gid ORDER BY created_at, story_gid) AS n
    FROM staging.asana_stories
    WHERE subtype = 'due_date_changed'
)

SELECT
    t.task_gid,
    t.created_at AS valid_from,
    coalesce(c.created_at, TIMESTAMPTZ 'infinity') AS valid_to,
    CASE WHEN c.task_gid IS NULL THEN t.due_on ELSE c.old_due_on END AS due_on
FROM staging.asana_tasks AS t
LEFT JOIN changes AS c ON c.task_gid = t.task_gid AND c.n = 1

UNION ALL

SELECT
    c.task_gid,
    c.created_at AS valid_from,
    coalesce(nxt.created_at, TIMESTAMPTZ 'infinity') AS valid_to,
    c.new_due_on AS due_on
FROM changes AS c
LEFT JOIN changes AS nxt ON nxt.task_gid = c.task_gid AND nxt.n = c.n + 1

-- One row per live task (subtasks flagged by parent_gid) as of as_of: its dates, its
-- slips (see fct_task_slips), its reopenings (marked incomplete after a completion:
-- revision rounds), on-time delivery and status. `on_time`: finished by the due date in
-- force, with no silent slip (NULL when unfinished or undated). `status`: cancelled or
-- not_started by section (client_status.cancelled_sections / not_started_sections),
-- done, overdue (open past its due date), else open.
WITH clients AS (
    SELECT client_id, timezone, CAST(timezone(timezone, getvariable('as_of')) AS DATE) AS today
    FROM staging.cfg_clients
),

tasks AS (
    SELECT
        t.*,
        c.today,
        t.completed AND t.completed_at <= getvariable('as_of') AS done,
        CAST(timezone(c.timezone, t.completed_at) AS DATE) AS completed_on
    FROM staging.asana_tasks AS t
    JOIN clients AS c USING (client_id)
    WHERE t.created_at <= getvariable('as_of')
),

dues AS (
    SELECT
        task_gid,
        arg_min(due_on, valid_from) AS first_due_on,
        arg_max(due_on, valid_from) FILTER (
            WHERE valid_from <= getvariable('as_of')
        ) AS current_due_on
    FROM core.asana_due_periods
    GROUP BY task_gid
),

slips AS (
    SELECT
        task_gid,
        count(*) AS slip_count,
        count(*) FILTER (WHERE kind = 'announced') AS announced_slips,
        count(*) FILTER (WHERE kind = 'silent') AS silent_slips
    FROM core.fct_task_slips
    GROUP BY task_gid
),

completions AS (
    SELECT
        task_gid,
        subtype,
        created_at,
        count(*) FILTER (WHERE subtype = 'marked_complete') OVER (
            PARTITION BY task_gid ORDER BY created_at, story_gid
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ) AS completions_before
    FROM staging.asana_stories
    WHERE subtype IN ('marked_complete', 'marked_incomplete')
      AND created_at <= getvariable('as_of')
),

reopens AS (
    SELECT task_gid, count(*) AS reopen_count
    FROM completions
    WHERE subtype = 'marked_incomplete' AND completions_before > 0
    GROUP BY task_gid
)

SELECT
    t.task_gid,
    t.task_name,
    t.client_id,
    t.project_gid,
    t.parent_gid,
    t.assignee_name,
    t.created_at,
    d.first_due_on,
    d.current_due_on,
    CASE WHEN t.done THEN t.completed_at END AS completed_at,
    coalesce(s.slip_count, 0) AS slip_count,
    coalesce(s.announced_slips, 0) AS announced_slips,
    coalesce(s.silent_slips, 0) AS silent_slips,
    coalesce(r.reopen_count, 0) AS reopen_count,
    CASE
        WHEN NOT t.done OR d.current_due_on IS NULL THEN NULL
        ELSE t.completed_on <= d.current_due_on AND coalesce(s.silent_slips, 0) = 0
    END AS on_time,
    CASE
        WHEN list_contains(getvariable('cancelled_sections')::VARCHAR[], t.section_name)
            THEN 'cancelled'
        WHEN t.done THEN 'done'
        WHEN list_contains(getvariable('not_started_sections')::VARCHAR[], t.section_name)
            THEN 'not_started'
        WHEN d.current_due_on < t.today THEN 'overdue'
        ELSE 'open'
    END AS status,
    t.section_name,
    t.status_reason,
    t.justification
FROM tasks AS t
LEFT JOIN dues AS d USING (task_gid)
LEFT JOIN slips AS s USING (task_gid)
LEFT JOIN reopens AS r USING (task_gid)

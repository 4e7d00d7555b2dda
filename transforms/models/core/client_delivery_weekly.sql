-- Per client and week (Monday to Monday on the client's calendar), from the client's
-- first task to the week of as_of; top-level tasks only (subtasks are steps of a task).
-- on_time_rate: share of the week's dated completions that were on time (fct_task_delivery).
-- open_overdue / open_at_week_end: at the week's end (as_of for the current week), tasks
-- open past the due date then in force / all tasks open (completion as the task stands
-- now: a later reopening is not replayed). Slips by the day they happened (fct_task_slips); revision_rounds: tasks
-- marked incomplete after a completion that week.
WITH clients AS (
    SELECT client_id, timezone, CAST(timezone(timezone, getvariable('as_of')) AS DATE) AS today
    FROM staging.cfg_clients
),

tasks AS (
    SELECT
        f.*,
        c.timezone,
        CAST(timezone(c.timezone, f.created_at) AS DATE) AS created_on,
        CAST(timezone(c.timezone, f.completed_at) AS DATE) AS completed_on
    FROM core.fct_task_delivery AS f
    JOIN clients AS c USING (client_id)
    WHERE f.parent_gid IS NULL
),

weeks AS (
    SELECT
        c.client_id,
        c.timezone,
        CAST(w.week_start AS DATE) AS week_start,
        CAST(w.week_start AS DATE) + 7 AS week_end,
        -- the moment "open at the week's end" is judged: its end, or as_of if sooner
        least(
            timezone(c.timezone, CAST(CAST(w.week_start AS DATE) + 7 AS TIMESTAMP)),
            getvariable('as_of')
        ) AS cut
    FROM clients AS c
    JOIN (SELECT client_id, min(created_on) AS first_day FROM tasks GROUP BY client_id) AS f
        USING (client_id),
        generate_series(
            date_trunc('week', f.first_day), date_trunc('week', c.today), INTERVAL 7 DAY
        ) AS w (week_start)
),

open_at_cut AS (
    SELECT w.client_id, w.week_start, w.timezone, w.cut, t.task_gid, p.due_on
    FROM weeks AS w
    JOIN tasks AS t
        ON t.client_id = w.client_id
        AND t.created_at < w.cut
        AND (t.completed_at IS NULL OR t.completed_at >= w.cut)
    LEFT JOIN core.asana_due_periods AS p
        ON p.task_gid = t.task_gid AND p.valid_from < w.cut AND w.cut <= p.valid_to
),

open_at_end AS (
    SELECT
        client_id,
        week_start,
        count(DISTINCT task_gid) AS open_at_week_end,
        count(DISTINCT task_gid) FILTER (
            WHERE due_on < CAST(timezone(timezone, cut) AS DATE)
        ) AS open_overdue
    FROM open_at_cut
    GROUP BY ALL
),

reopened AS (
    SELECT t.client_id, CAST(timezone(t.timezone, s.created_at) AS DATE) AS reopened_on
    FROM staging.asana_stories AS s
    JOIN tasks AS t USING (task_gid)
    WHERE s.subtype = 'marked_incomplete' AND s.created_at <= getvariable('as_of')
      AND EXISTS (
          SELECT 1 FROM staging.asana_stories AS b
          WHERE b.task_gid = s.task_gid AND b.subtype = 'marked_complete'
            AND b.created_at < s.created_at
      )
)

SELECT
    w.client_id,
    w.week_start,
    (SELECT count(*) FROM tasks AS t
        WHERE t.client_id = w.client_id AND t.completed_on >= w.week_start
          AND t.completed_on < w.week_end) AS completed_tasks,
    (SELECT avg(CAST(t.on_time AS INTEGER)) FROM tasks AS t
        WHERE t.client_id = w.client_id AND t.completed_on >= w.week_start
          AND t.completed_on < w.week_end AND t.on_time IS NOT NULL) AS on_time_rate,
    coalesce(o.open_overdue, 0) AS open_overdue,
    (SELECT count(*) FROM core.fct_task_slips AS s JOIN tasks AS t USING (task_gid)
        WHERE t.client_id = w.client_id AND s.kind = 'announced'
          AND s.slipped_on >= w.week_start AND s.slipped_on < w.week_end) AS announced_slips,
    (SELECT count(*) FROM core.fct_task_slips AS s JOIN tasks AS t USING (task_gid)
        WHERE t.client_id = w.client_id AND s.kind = 'silent'
          AND s.slipped_on >= w.week_start AND s.slipped_on < w.week_end) AS silent_slips,
    (SELECT count(*) FROM reopened AS r
        WHERE r.client_id = w.client_id AND r.reopened_on >= w.week_start
          AND r.reopened_on < w.week_end) AS revision_rounds,
    (SELECT count(*) FROM tasks AS t
        WHERE t.client_id = w.client_id AND t.created_on >= w.week_start
          AND t.created_on < w.week_end) AS new_tasks,
    coalesce(o.open_at_week_end, 0) AS open_at_week_end,
    (SELECT count(*) FROM tasks AS t
        WHERE t.client_id = w.client_id AND t.completed_on >= w.week_start
          AND t.completed_on < w.week_end AND t.on_time IS NOT NULL) AS dated_completed_tasks,
    (SELECT count(*) FROM tasks AS t
        WHERE t.client_id = w.client_id AND t.completed_on >= w.week_start
          AND t.completed_on < w.week_end AND t.on_time) AS on_time_tasks
FROM weeks AS w
LEFT JOIN open_at_end AS o USING (client_id, week_start)

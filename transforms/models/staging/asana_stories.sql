-- Stories of live tasks, typed: due-date changes with the old and new dates, completion
-- changes, comments (metadata only: their text is never stored).
SELECT
    s.gid                                               AS story_gid,
    s.task_gid,
    s.created_at,
    s.payload ->> 'resource_subtype'                    AS subtype,
    CAST(s.payload -> 'old_dates' ->> 'due_on' AS DATE) AS old_due_on,
    CAST(s.payload -> 'new_dates' ->> 'due_on' AS DATE) AS new_due_on
FROM raw.asana_stories AS s
JOIN raw.asana_tasks AS t ON t.gid = s.task_gid AND t.deleted_at IS NULL

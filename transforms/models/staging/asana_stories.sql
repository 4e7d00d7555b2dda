-- Stories of live tasks, typed: due-date changes with the old and new dates, completion
-- changes, custom-field changes with the field's name and its old and new values (an enum
-- option's name, or a text field's text), comments (metadata only: their text is never
-- stored).
SELECT
    s.gid                                               AS story_gid,
    s.task_gid,
    s.created_at,
    s.payload ->> 'resource_subtype'                    AS subtype,
    CAST(s.payload -> 'old_dates' ->> 'due_on' AS DATE) AS old_due_on,
    CAST(s.payload -> 'new_dates' ->> 'due_on' AS DATE) AS new_due_on,
    s.payload -> 'custom_field' ->> 'name'              AS field_name,
    coalesce(s.payload -> 'old_enum_value' ->> 'name', s.payload ->> 'old_text_value')
                                                        AS old_field_value,
    coalesce(s.payload -> 'new_enum_value' ->> 'name', s.payload ->> 'new_text_value')
                                                        AS new_field_value
FROM raw.asana_stories AS s
JOIN raw.asana_tasks AS t ON t.gid = s.task_gid AND t.deleted_at IS NULL

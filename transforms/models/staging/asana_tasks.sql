-- One row per Asana task (subtasks included), typed, with the client its project belongs to.
SELECT
    t.gid                                               AS task_gid,
    t.payload ->> 'name'                                AS task_name,
    t.project_gid,
    p.client_id,
    t.payload -> 'assignee' ->> 'name'                  AS assignee_name,
    CAST(t.payload ->> 'created_at' AS TIMESTAMPTZ)     AS created_at,
    coalesce(CAST(t.payload ->> 'completed' AS BOOLEAN), false) AS completed,
    CAST(t.payload ->> 'completed_at' AS TIMESTAMPTZ)   AS completed_at,
    CAST(t.payload ->> 'due_on' AS DATE)                AS due_on,
    t.modified_at,
    t.payload -> 'parent' ->> 'gid'                     AS parent_gid,
    t.payload -> 'memberships' -> 0 -> 'section' ->> 'name' AS section_name,
    t.payload ->> 'permalink_url'                       AS permalink_url
FROM raw.asana_tasks AS t
LEFT JOIN staging.cfg_client_projects AS p USING (project_gid)

-- One row per live Asana task (subtasks included; tombstoned tasks left out), typed, with
-- the client its home project belongs to, and the two texts the weekly client status
-- quotes: `status_reason` and `justification`, each the value of the first custom field
-- named in `client_status.reason_fields` / `justification_fields` that has one; and the
-- value of the `client_status.hypothesis_field` custom field, and `is_hypothesis`: the one
-- definition of a hypothesis task (a value in that field, or the task in a
-- `client_status.hypothesis_sections` section): the monthly report's hypotheses part lists
-- these tasks, its Plan, Do, Check and Act and the weekly status lists leave them out.
-- Each payload is parsed once, into the fields read below (one `->>` a field would parse
-- it again for each: four times the work on a large workspace).
WITH live AS (
    SELECT
        gid,
        project_gid,
        modified_at,
        from_json(payload, '{
            "name": "VARCHAR", "assignee": {"name": "VARCHAR"}, "created_at": "VARCHAR",
            "completed": "VARCHAR", "completed_at": "VARCHAR", "due_on": "VARCHAR",
            "parent": {"gid": "VARCHAR"}, "memberships": [{"section": {"name": "VARCHAR"}}],
            "permalink_url": "VARCHAR", "resource_subtype": "VARCHAR", "custom_fields": ["JSON"]
        }') AS payload
    FROM raw.asana_tasks
    WHERE deleted_at IS NULL
),

field_values AS (
    SELECT
        l.gid,
        cf ->> 'name' AS field_name,
        cf ->> 'display_value' AS field_value
    FROM live AS l, unnest(l.payload.custom_fields) AS u (cf)
    WHERE nullif(trim(cf ->> 'display_value'), '') IS NOT NULL
),

texts AS (
    SELECT
        gid,
        arg_min(
            field_value, list_position(getvariable('reason_fields')::VARCHAR[], field_name)
        ) FILTER (
            WHERE list_contains(getvariable('reason_fields')::VARCHAR[], field_name)
        ) AS status_reason,
        arg_min(
            field_value, list_position(getvariable('justification_fields')::VARCHAR[], field_name)
        ) FILTER (
            WHERE list_contains(getvariable('justification_fields')::VARCHAR[], field_name)
        ) AS justification,
        any_value(field_value) FILTER (WHERE field_name = getvariable('hypothesis_field'))
            AS hypothesis_status
    FROM field_values
    GROUP BY gid
)

SELECT
    t.gid                                               AS task_gid,
    t.payload.name                                      AS task_name,
    t.project_gid,
    p.client_id,
    t.payload.assignee.name                             AS assignee_name,
    CAST(t.payload.created_at AS TIMESTAMPTZ)           AS created_at,
    coalesce(CAST(t.payload.completed AS BOOLEAN), false) AS completed,
    CAST(t.payload.completed_at AS TIMESTAMPTZ)         AS completed_at,
    CAST(t.payload.due_on AS DATE)                      AS due_on,
    t.modified_at,
    t.payload.parent.gid                                AS parent_gid,
    t.payload.memberships[1].section.name               AS section_name,
    t.payload.permalink_url,
    x.status_reason,
    x.justification,
    x.hypothesis_status,
    x.hypothesis_status IS NOT NULL
        OR coalesce(
            list_contains(
                getvariable('hypothesis_sections')::VARCHAR[], t.payload.memberships[1].section.name
            ),
            false
        )                                               AS is_hypothesis,
    pr.payload ->> 'name'                               AS project_name,
    coalesce(t.payload.resource_subtype = 'milestone', false) AS milestone
FROM live AS t
LEFT JOIN staging.cfg_client_projects AS p USING (project_gid)
LEFT JOIN texts AS x USING (gid)
LEFT JOIN raw.asana_projects AS pr ON pr.gid = t.project_gid

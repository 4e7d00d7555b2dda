-- Hypotheses of the monthly client report (docs/domain.md §3: Plan-Do-Check-Act reports the
-- hypotheses set, confirmed and refuted): per client, for the month before the month of
-- as_of (client's calendar), the top-level tasks that are hypotheses
-- (staging.asana_tasks.is_hypothesis: a value in the `client_status.hypothesis_field`
-- custom field, or in a `hypothesis_sections` section) with their state as it stood at the
-- month's end (nothing done after it shows in that month's report):
-- * confirmed / refuted: the field said so (`hypothesis_confirmed` / `hypothesis_refuted`),
--   decided in the month (the task completed then, else the verdict was recorded then);
-- * tested: completed in the month with no verdict in the field;
-- * testing: open at the month's end, set before it ended.
-- Completion and the field at the month's end come from the task's stories
-- (staging.asana_stories): the last change before the end, else the value the first change
-- after it replaced. A task without such stories is read from its current state: completed
-- at the month's end if completed_at is before it; its field's current value counts if it
-- was completed by then (the verdict taken as recorded at completion) or has not been
-- modified since, else the verdict is not known to have been there (no verdict).
WITH hypotheses AS (
    SELECT
        t.task_gid,
        t.task_name,
        t.project_name,
        t.client_id,
        t.hypothesis_status,
        m.month_start,
        m.month_end,
        CAST(timezone(m.timezone, t.created_at) AS DATE) AS set_on,
        CAST(timezone(m.timezone, t.completed_at) AS DATE) AS completed_on,
        CAST(timezone(m.timezone, t.modified_at) AS DATE) AS modified_on,
        m.timezone
    FROM staging.asana_tasks AS t
    JOIN core.client_report_month AS m USING (client_id)
    WHERE t.parent_gid IS NULL AND t.is_hypothesis
),

changes AS (
    SELECT
        h.task_gid,
        s.field_name IS NOT NULL AS verdict,
        CAST(timezone(h.timezone, s.created_at) AS DATE) AS changed_on,
        s.created_at,
        CASE WHEN s.field_name IS NULL THEN s.subtype = 'marked_complete' END AS now_complete,
        s.old_field_value,
        s.new_field_value
    FROM hypotheses AS h
    JOIN staging.asana_stories AS s USING (task_gid)
    WHERE s.subtype IN ('marked_complete', 'marked_incomplete')
        OR s.field_name = getvariable('hypothesis_field')
),

at_month_end AS (
    SELECT
        h.task_gid,
        count(*) FILTER (WHERE NOT c.verdict) AS toggles,
        arg_max(c.now_complete, c.created_at) FILTER (
            WHERE NOT c.verdict AND c.changed_on < h.month_end
        ) AS complete_by_story,
        arg_min(NOT c.now_complete, c.created_at) FILTER (
            WHERE NOT c.verdict AND c.changed_on >= h.month_end
        ) AS complete_before_story,
        max(c.changed_on) FILTER (
            WHERE c.now_complete AND c.changed_on < h.month_end
        ) AS completed_by_story,
        count(*) FILTER (WHERE c.verdict) AS verdicts,
        count(*) FILTER (WHERE c.verdict AND c.changed_on < h.month_end) AS verdicts_before,
        arg_max_null(c.new_field_value, c.created_at) FILTER (
            WHERE c.verdict AND c.changed_on < h.month_end
        ) AS status_by_story,
        arg_min_null(c.old_field_value, c.created_at) FILTER (
            WHERE c.verdict AND c.changed_on >= h.month_end
        ) AS status_before_story,
        max(c.changed_on) FILTER (WHERE c.verdict AND c.changed_on < h.month_end)
            AS recorded_on
    FROM hypotheses AS h
    JOIN changes AS c USING (task_gid)
    GROUP BY h.task_gid
),

month_end_state AS (
    SELECT
        h.*,
        CASE
            WHEN coalesce(e.toggles, 0) = 0 THEN coalesce(h.completed_on < h.month_end, false)
            ELSE coalesce(e.complete_by_story, e.complete_before_story)
        END AS complete_then,
        coalesce(e.completed_by_story, h.completed_on) AS completed_then_on,
        e.recorded_on,
        CASE
            WHEN coalesce(e.verdicts, 0) = 0 THEN h.hypothesis_status
            WHEN e.verdicts_before > 0 THEN e.status_by_story
            ELSE e.status_before_story
        END AS status_then,
        coalesce(e.verdicts, 0) = 0 AND h.modified_on >= h.month_end AS status_unknown
    FROM hypotheses AS h
    LEFT JOIN at_month_end AS e USING (task_gid)
),

states AS (
    SELECT
        *,
        CASE
            WHEN status_unknown AND NOT complete_then THEN 'testing'
            WHEN list_contains(
                list_transform(getvariable('hypothesis_confirmed'), lambda v: lower(trim(v))),
                lower(trim(status_then))
            ) THEN 'confirmed'
            WHEN list_contains(
                list_transform(getvariable('hypothesis_refuted'), lambda v: lower(trim(v))),
                lower(trim(status_then))
            ) THEN 'refuted'
            WHEN complete_then THEN 'tested'
            ELSE 'testing'
        END AS state,
        CASE
            WHEN complete_then THEN completed_then_on
            ELSE coalesce(recorded_on, modified_on)
        END AS decided_on
    FROM month_end_state
)

SELECT
    client_id,
    month_start,
    task_gid,
    task_name,
    project_name,
    state,
    set_on,
    CASE WHEN state <> 'testing' THEN decided_on END AS decided_on
FROM states
WHERE set_on < month_end
    AND (
        (state = 'testing' AND NOT complete_then)
        OR (state <> 'testing' AND decided_on >= month_start AND decided_on < month_end)
    )

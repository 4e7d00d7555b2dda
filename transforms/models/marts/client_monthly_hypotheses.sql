-- Hypotheses of the monthly client report (docs/domain.md §3: Plan-Do-Check-Act reports the
-- hypotheses set, confirmed and refuted): per client, for the month before the month of
-- as_of (client's calendar), the top-level tasks that are hypotheses
-- (staging.asana_tasks.is_hypothesis: a value in the `client_status.hypothesis_field`
-- custom field, or in a `hypothesis_sections` section) with their state:
-- * confirmed / refuted: the field says so (`hypothesis_confirmed` / `hypothesis_refuted`),
--   decided in the month (the task completed then, else last changed then);
-- * tested: completed in the month with no verdict in the field;
-- * testing: still open at the month's end, set before it ended.
WITH hypotheses AS (
    SELECT
        t.*,
        m.month_start,
        m.month_end,
        CAST(timezone(m.timezone, t.created_at) AS DATE) AS set_on,
        CAST(timezone(m.timezone, coalesce(t.completed_at, t.modified_at)) AS DATE) AS decided_on,
        CASE
            WHEN list_contains(
                list_transform(getvariable('hypothesis_confirmed'), lambda v: lower(trim(v))),
                lower(trim(t.hypothesis_status))
            ) THEN 'confirmed'
            WHEN list_contains(
                list_transform(getvariable('hypothesis_refuted'), lambda v: lower(trim(v))),
                lower(trim(t.hypothesis_status))
            ) THEN 'refuted'
            WHEN t.completed THEN 'tested'
            ELSE 'testing'
        END AS state
    FROM staging.asana_tasks AS t
    JOIN core.client_report_month AS m USING (client_id)
    WHERE t.parent_gid IS NULL AND t.is_hypothesis
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
FROM hypotheses
WHERE set_on < month_end
    AND (
        (state = 'testing' AND NOT completed)
        OR (state <> 'testing' AND decided_on >= month_start AND decided_on < month_end)
    )

-- Check of the monthly client report (docs/domain.md §3: weak spots shown, not hidden): one row
-- per configured client for the month before the month of as_of (client's calendar):
-- email reply figures of the waits that began that month (intermediate.reply_compliance,
-- period month, as of as_of),
-- delivery (completed top-level tasks, on time or late), slips announced and silent
-- (core.fct_task_slips) and revision rounds (a completed task marked incomplete again).
-- Ordinary work only: hypothesis tasks (staging.asana_tasks.is_hypothesis) are in none of
-- these counts (marts.client_monthly_delivered leaves them out too); the report tells them
-- in its hypotheses part.
WITH sla AS (
    SELECT r.client_id, r.metric, r.achieved, r.decided, r.median_business_minutes AS median_minutes
    FROM intermediate.reply_compliance AS r
    JOIN core.client_report_month AS m ON r.client_id = m.client_id AND r.period_start = m.month_start
    WHERE r.grain = 'client' AND r.period = 'month'
),

delivered AS (
    SELECT
        client_id,
        count(*) AS completed_tasks,
        count(*) FILTER (WHERE on_time) AS completed_on_time,
        count(*) FILTER (WHERE NOT on_time) AS completed_late
    FROM marts.client_monthly_delivered
    GROUP BY client_id
),

slips AS (
    SELECT
        s.client_id,
        count(*) FILTER (WHERE s.kind = 'announced') AS announced_slips,
        count(*) FILTER (WHERE s.kind = 'silent') AS silent_slips
    FROM core.fct_task_slips AS s
    JOIN core.client_report_month AS m USING (client_id)
    JOIN core.fct_task_delivery AS f USING (task_gid)
    JOIN staging.asana_tasks AS t USING (task_gid)
    WHERE f.parent_gid IS NULL AND NOT t.is_hypothesis
      AND s.slipped_on >= m.month_start AND s.slipped_on < m.month_end
    GROUP BY s.client_id
),

completions AS (
    SELECT
        s.task_gid,
        s.subtype,
        s.created_at,
        count(*) FILTER (WHERE s.subtype = 'marked_complete') OVER (
            PARTITION BY s.task_gid ORDER BY s.created_at, s.story_gid
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ) AS completions_before
    FROM staging.asana_stories AS s
    WHERE s.subtype IN ('marked_complete', 'marked_incomplete')
      AND s.created_at <= getvariable('as_of')
),

revisions AS (
    SELECT f.client_id, count(*) AS revision_rounds
    FROM completions AS r
    JOIN core.fct_task_delivery AS f USING (task_gid)
    JOIN core.client_report_month AS m USING (client_id)
    JOIN staging.asana_tasks AS t USING (task_gid)
    WHERE r.subtype = 'marked_incomplete' AND r.completions_before > 0
      AND f.parent_gid IS NULL AND NOT t.is_hypothesis
      AND CAST(timezone(m.timezone, r.created_at) AS DATE) >= m.month_start
      AND CAST(timezone(m.timezone, r.created_at) AS DATE) < m.month_end
    GROUP BY f.client_id
)

SELECT
    m.client_id,
    m.month_start,
    coalesce(fr.decided, 0) AS first_reply_decided,
    coalesce(fr.achieved, 0) AS first_reply_achieved,
    fr.achieved / nullif(fr.decided, 0) AS first_reply_compliance,
    round(fr.median_minutes / 60, 1) AS first_reply_median_hours,
    coalesce(nr.decided, 0) AS next_reply_decided,
    coalesce(nr.achieved, 0) AS next_reply_achieved,
    nr.achieved / nullif(nr.decided, 0) AS next_reply_compliance,
    round(nr.median_minutes / 60, 1) AS next_reply_median_hours,
    coalesce(d.completed_tasks, 0) AS completed_tasks,
    coalesce(d.completed_on_time, 0) AS completed_on_time,
    coalesce(d.completed_late, 0) AS completed_late,
    coalesce(s.announced_slips, 0) AS announced_slips,
    coalesce(s.silent_slips, 0) AS silent_slips,
    coalesce(r.revision_rounds, 0) AS revision_rounds
FROM core.client_report_month AS m
LEFT JOIN sla AS fr ON fr.client_id = m.client_id AND fr.metric = 'first_reply'
LEFT JOIN sla AS nr ON nr.client_id = m.client_id AND nr.metric = 'next_reply'
LEFT JOIN delivered AS d ON d.client_id = m.client_id
LEFT JOIN slips AS s ON s.client_id = m.client_id
LEFT JOIN revisions AS r ON r.client_id = m.client_id

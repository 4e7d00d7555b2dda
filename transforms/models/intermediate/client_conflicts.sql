-- Conflicts in client mail as of the build (docs/domain.md §5: an unresolved conflict is a
-- time bomb, and many clients leave without escalating; §8: move written ping-pong to a
-- call). Read from headers only, per conversation. A thread enters conflict at the first
-- message where at least `conflict_min_signals` (default 2) of these meet within 48 hours —
-- heat (a burst or ping-pong: the two go together in any brisk thread, so they count once),
-- a senior copied, complaint words; heat alone is a busy thread, not a quarrel:
-- * burst: client messages in the thread within 48 hours reach `conflict_burst_min_messages`
--   and `conflict_burst_over_usual` × the client's own usual (its median thread's peak of
--   client messages in 48 hours, over the 180 days before as_of; a median, so one heated
--   thread does not raise the bar for itself) — a busy client's busy week is no burst;
-- * ping-pong: `conflict_ping_pong_replies` quick replies (the other side answering within
--   `conflict_ping_pong_minutes`);
-- * senior copied: after the first message, a client executive (staging.crm_contacts) or
--   an agency director (`conflict_directors`) appears in From/To/Cc for the first time;
--   who they are (`copied_people`): the CRM contact's name and job title for the address,
--   else the account manager's name whose address it is (reports write them out);
-- * complaint words in the subject (`conflict_complaint_subject`).
-- It ends at the first call or meeting held with the client after it started, or
-- `conflict_calm_days` after the client's last message in the thread once an agency reply
-- followed it. One conflict per thread: a thread that flares up again after it ended
-- stays ended (the client's next thread is judged on its own).
WITH mail AS (
    SELECT
        m.message_key,
        m.conversation_id,
        m.client_id,
        m.sent_at,
        m.subject,
        m.direction,
        list_distinct(list_transform([m.from_addr] || m.to_addrs || m.cc_addrs, lambda a: lower(a)))
            AS people
    FROM staging.email_messages AS m
    WHERE m.direction IN ('inbound', 'outbound')
        AND m.client_id IS NOT NULL
        AND m.sent_at <= getvariable('as_of')
),

seniors AS (
    SELECT list_distinct(
        list(lower(email))
        || list_transform(getvariable('conflict_directors')::VARCHAR[], lambda a: lower(a))
    ) AS addresses
    FROM staging.crm_contacts
    WHERE seniority = 'executive' AND email IS NOT NULL
),

paced AS (
    SELECT
        mail.*,
        sum(CASE WHEN direction = 'inbound' THEN 1 ELSE 0 END) OVER recent AS client_messages_48h,
        lag(direction) OVER thread <> direction
            AND sent_at - lag(sent_at) OVER thread
                <= to_minutes(getvariable('conflict_ping_pong_minutes')) AS quick_reply,
        flatten(list(people) OVER earlier) AS earlier_people
    FROM mail
    WINDOW
        thread AS (PARTITION BY client_id, conversation_id ORDER BY sent_at, message_key),
        earlier AS (
            PARTITION BY client_id, conversation_id ORDER BY sent_at, message_key
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ),
        recent AS (
            PARTITION BY client_id, conversation_id ORDER BY sent_at
            RANGE BETWEEN INTERVAL 48 HOUR PRECEDING AND CURRENT ROW
        )
),

usual AS (
    SELECT client_id, median(peak) AS usual_48h
    FROM (
        SELECT client_id, conversation_id, max(client_messages_48h) AS peak
        FROM paced
        WHERE direction = 'inbound' AND sent_at > getvariable('as_of') - INTERVAL 180 DAY
        GROUP BY ALL
    )
    GROUP BY client_id
),

flagged AS (
    SELECT
        p.*,
        p.direction = 'inbound'
            AND p.client_messages_48h >= greatest(
                getvariable('conflict_burst_min_messages'),
                getvariable('conflict_burst_over_usual') * coalesce(u.usual_48h, 0)
            ) AS burst,
        list_filter(
            p.people,
            lambda a: p.earlier_people IS NOT NULL
                AND NOT list_contains(p.earlier_people, a)
                AND list_contains(s.addresses, a)
        ) AS seniors_added,
        regexp_matches(coalesce(p.subject, ''), getvariable('conflict_complaint_subject'))
            AS complaint
    FROM paced AS p
    LEFT JOIN usual AS u USING (client_id)
    CROSS JOIN seniors AS s
),

windowed AS (
    SELECT
        *,
        bool_or(burst) OVER recent AS burst_48h,
        sum(CASE WHEN quick_reply THEN 1 ELSE 0 END) OVER recent
            >= getvariable('conflict_ping_pong_replies') AS ping_pong_48h,
        bool_or(len(seniors_added) > 0) OVER recent AS senior_48h,
        bool_or(complaint) OVER recent AS complaint_48h
    FROM flagged
    WINDOW recent AS (
        PARTITION BY client_id, conversation_id ORDER BY sent_at
        RANGE BETWEEN INTERVAL 48 HOUR PRECEDING AND CURRENT ROW
    )
),

started AS (
    SELECT client_id, conversation_id, min(sent_at) AS started_at
    FROM windowed
    WHERE (burst_48h OR ping_pong_48h)::INT + senior_48h::INT + complaint_48h::INT
        >= getvariable('conflict_min_signals')
    GROUP BY ALL
),

episode AS (
    SELECT
        s.client_id,
        s.conversation_id,
        s.started_at,
        arg_min(w.subject, w.sent_at) FILTER (WHERE w.sent_at = s.started_at) AS subject,
        list_sort(list_distinct(flatten(list(w.seniors_added)))) AS seniors_copied,
        list_sort(list_distinct(flatten(list(
            [
                CASE WHEN w.burst THEN 'burst' END,
                CASE WHEN w.quick_reply THEN 'ping_pong' END,
                CASE WHEN len(w.seniors_added) > 0 THEN 'senior_copied' END,
                CASE WHEN w.complaint THEN 'complaint_words' END
            ]
        )))) AS signals,
        count(*) FILTER (WHERE w.direction = 'inbound' AND w.sent_at >= s.started_at)
            AS client_messages,
        count(*) FILTER (WHERE w.direction = 'outbound' AND w.sent_at >= s.started_at)
            AS agency_messages,
        max(w.sent_at) FILTER (WHERE w.direction = 'inbound') AS last_client_message_at,
        max(w.sent_at) AS last_message_at
    FROM started AS s
    JOIN windowed AS w
        ON w.client_id = s.client_id
        AND w.conversation_id = s.conversation_id
        AND w.sent_at >= s.started_at - INTERVAL 48 HOUR
    GROUP BY ALL
),

known AS (
    SELECT
        lower(email) AS address,
        arg_min(
            {'name': nullif(trim(contact_name), ''), 'title': nullif(trim(job_title), '')},
            contact_id
        ) AS contact
    FROM staging.crm_contacts
    WHERE email IS NOT NULL
    GROUP BY ALL
),

copied AS (
    SELECT
        e.client_id,
        e.conversation_id,
        list(
            {
                'address': u.address,
                'name': coalesce(k.contact.name, m.account_manager_name),
                'title': k.contact.title
            }
            ORDER BY u.address
        ) AS copied_people
    FROM episode AS e, unnest(e.seniors_copied) AS u (address)
    LEFT JOIN known AS k ON k.address = u.address
    LEFT JOIN staging.cfg_account_managers AS m ON lower(m.account_manager_email) = u.address
    GROUP BY ALL
),

ends AS (
    SELECT
        e.*,
        c.copied_people,
        (
            SELECT min(g.occurred_at)
            FROM staging.crm_engagements AS g
            WHERE g.client_id = e.client_id
                AND g.engagement_type IN ('calls', 'meetings')
                AND g.held
                AND g.occurred_at > e.started_at
                AND g.occurred_at <= getvariable('as_of')
        ) AS talked_at,
        CASE
            WHEN e.last_message_at > e.last_client_message_at
                AND e.last_client_message_at + to_days(getvariable('conflict_calm_days'))
                    <= getvariable('as_of')
                THEN e.last_client_message_at + to_days(getvariable('conflict_calm_days'))
        END AS calm_at
    FROM episode AS e
    LEFT JOIN copied AS c USING (client_id, conversation_id)
)

SELECT
    client_id,
    conversation_id,
    subject,
    started_at,
    signals,
    seniors_copied,
    coalesce(copied_people, []) AS copied_people,
    client_messages,
    agency_messages,
    last_message_at,
    least(talked_at, calm_at) AS ended_at,
    CASE
        WHEN talked_at <= coalesce(calm_at, talked_at) THEN 'call_or_meeting'
        WHEN calm_at IS NOT NULL THEN 'calm'
    END AS ended_by,
    talked_at IS NULL AND calm_at IS NULL AS is_open,
    CAST(floor(
        epoch(coalesce(least(talked_at, calm_at), getvariable('as_of')) - started_at) / 86400
    ) AS INTEGER) AS open_days
FROM ends

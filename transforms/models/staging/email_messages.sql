-- One row per dated message: who sent it (client / internal / unknown), which clients
-- it reaches, whether it is automated (RFC 3834 and friends), and its direction.
-- Undated messages stay in raw (and quarantine) but cannot be placed on a clock.
WITH messages AS (
    SELECT
        *,
        split_part(from_addr, '@', 2) AS from_domain,
        list_concat(coalesce(to_addrs, []), coalesce(cc_addrs, [])) AS recipients
    FROM raw.email_messages
    WHERE sent_at IS NOT NULL
),

recipient_rows AS (
    SELECT message_key, unnest(recipients) AS addr
    FROM messages
),

recipient_parties AS (
    SELECT
        r.message_key,
        list_sort(list_distinct(list(coalesce(a.client_id, d.client_id))
            FILTER (WHERE coalesce(a.client_id, d.client_id) IS NOT NULL))) AS recipient_client_ids,
        bool_or(i.domain IS NOT NULL) AS reaches_internal
    FROM recipient_rows AS r
    LEFT JOIN staging.cfg_client_addresses AS a ON a.address = r.addr
    LEFT JOIN staging.cfg_client_domains AS d ON d.domain = split_part(r.addr, '@', 2)
    LEFT JOIN staging.cfg_internal_domains AS i ON i.domain = split_part(r.addr, '@', 2)
    GROUP BY r.message_key
),

classified AS (
    SELECT
        m.message_key,
        m.message_id,
        m.sent_at,
        m.subject,
        m.from_addr,
        m.from_domain,
        m.to_addrs,
        m.cc_addrs,
        m.in_reply_to,
        m."references",
        coalesce(m."references"[1], m.in_reply_to, m.message_id, m.message_key) AS conversation_id,
        (m.auto_submitted IS NOT NULL AND lower(m.auto_submitted) <> 'no')
            OR m.x_autoreply
            OR lower(coalesce(m.precedence, '')) IN ('bulk', 'list', 'junk')
            OR m.list_id IS NOT NULL
            OR m.return_path_null
            OR m.is_bounce AS is_automated,
        CASE
            WHEN i.domain IS NOT NULL THEN 'internal'
            WHEN coalesce(a.client_id, d.client_id) IS NOT NULL THEN 'client'
            ELSE 'unknown'
        END AS sender_party,
        coalesce(a.client_id, d.client_id) AS sender_client_id,
        coalesce(rp.recipient_client_ids, []) AS recipient_client_ids,
        coalesce(rp.reaches_internal, false) AS reaches_internal
    FROM messages AS m
    LEFT JOIN recipient_parties AS rp USING (message_key)
    LEFT JOIN staging.cfg_client_addresses AS a ON a.address = m.from_addr
    LEFT JOIN staging.cfg_client_domains AS d ON d.domain = m.from_domain
    LEFT JOIN staging.cfg_internal_domains AS i ON i.domain = m.from_domain
)

SELECT
    *,
    CASE
        WHEN is_automated THEN 'automated'
        WHEN sender_party = 'client' AND reaches_internal THEN 'inbound'
        WHEN sender_party = 'internal' AND len(recipient_client_ids) > 0 THEN 'outbound'
        WHEN sender_party = 'internal' THEN 'internal'
        ELSE 'other'
    END AS direction,
    CASE
        WHEN sender_party = 'client' THEN sender_client_id
        WHEN sender_party = 'internal' THEN recipient_client_ids[1]
    END AS client_id
FROM classified

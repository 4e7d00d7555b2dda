-- One row per dated message: the party of its sender (client / internal / vendor /
-- unknown, via staging.client_mail_identities), which clients it reaches, whether it is
-- automated (RFC 3834 and friends, bounces), its conversation (JWZ threads from
-- staging.email_threads) and its direction:
--   inbound   a human message from a client address reaching an agency address
--   outbound  a human message from an agency address to at least one client address
--   internal  agency people only;  automated;  other (vendors, unknown senders)
-- `is_closing`: a reply (not a forward) whose whole subject, after Re:/Fwd: prefixes, is
-- thanks or an acknowledgement (sla_policies.closing_subject), or whose body opens as a
-- pure closer ("Thanks, got it" under "Re: <topic>": raw closing_verdict, decided at
-- ingest from the body's first bytes by connectors.mailboxes.closing; no body text is stored).
-- Undated messages stay in raw (and quarantine) but cannot be placed on a clock.
-- `messages` is read twice (recipients, classification) and streamed each time: kept
-- (DuckDB's default for a CTE read twice) it held every wide row, 1.9 GB at 2M messages.
WITH messages AS NOT MATERIALIZED (
    SELECT
        *,
        lower(split_part(from_addr, '@', 2)) AS from_domain,
        list_concat(coalesce(to_addrs, []), coalesce(cc_addrs, [])) AS recipients
    FROM raw.email_messages
    WHERE sent_at IS NOT NULL
),

addresses AS (
    SELECT value AS address, client_id FROM staging.client_mail_identities WHERE kind = 'address'
),

domains AS (
    SELECT value AS domain, client_id FROM staging.client_mail_identities WHERE kind = 'domain'
),

recipient_rows AS (
    SELECT message_key, lower(unnest(recipients)) AS addr
    FROM messages
),

recipient_parties AS (
    SELECT
        r.message_key,
        list_sort(list_distinct(list(coalesce(a.client_id, d.client_id))
            FILTER (WHERE i.domain IS NULL AND coalesce(a.client_id, d.client_id) IS NOT NULL)))
            AS recipient_client_ids,
        bool_or(i.domain IS NOT NULL) AS reaches_internal
    FROM recipient_rows AS r
    LEFT JOIN addresses AS a ON a.address = r.addr
    LEFT JOIN domains AS d ON d.domain = split_part(r.addr, '@', 2)
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
        m.is_bounce,
        coalesce(m.closing_verdict, 'unknown') AS closing_verdict,
        coalesce(t.conversation_id, m.message_id, m.message_key) AS conversation_id,
        regexp_matches(coalesce(m.subject, ''), '(?i)^\s*(fwd?|wg|tr|пересл)\s*:') AS is_forward,
        regexp_replace(
            coalesce(m.subject, ''),
            '(?i)^(\s*(re|fwd?|aw|wg|sv|tr|відп|отв|ответ|пересл)\s*(\[\d+\])?\s*:)+\s*',
            ''
        ) AS bare_subject,
        (m.auto_submitted IS NOT NULL AND lower(m.auto_submitted) <> 'no')
            OR m.x_autoreply
            OR lower(coalesce(m.precedence, '')) IN ('bulk', 'list', 'junk')
            OR m.list_id IS NOT NULL
            OR m.return_path_null
            OR m.is_bounce AS is_automated,
        CASE
            WHEN i.domain IS NOT NULL THEN 'internal'
            WHEN coalesce(a.client_id, d.client_id) IS NOT NULL THEN 'client'
            WHEN v.domain IS NOT NULL THEN 'vendor'
            ELSE 'unknown'
        END AS sender_party,
        CASE WHEN i.domain IS NULL THEN coalesce(a.client_id, d.client_id) END AS sender_client_id,
        coalesce(rp.recipient_client_ids, []) AS recipient_client_ids,
        coalesce(rp.reaches_internal, false) AS reaches_internal
    FROM messages AS m
    LEFT JOIN staging.email_threads AS t USING (message_key)
    LEFT JOIN recipient_parties AS rp USING (message_key)
    LEFT JOIN addresses AS a ON a.address = lower(m.from_addr)
    LEFT JOIN domains AS d ON d.domain = m.from_domain
    LEFT JOIN staging.cfg_internal_domains AS i ON i.domain = m.from_domain
    LEFT JOIN staging.cfg_vendor_domains AS v ON v.domain = m.from_domain
)

SELECT
    * EXCLUDE (bare_subject, closing_verdict),
    in_reply_to IS NOT NULL AND NOT is_forward
        AND (regexp_full_match(bare_subject, getvariable('closing_subject'))
            OR closing_verdict = 'closer') AS is_closing,
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

-- Which client an address or a whole domain belongs to. Addresses: the config's
-- contact_addresses, then CRM contacts of a client's company. Domains: the config's
-- email_domains, then the client's CRM company domain. A freemail domain (gmail.com,
-- ukr.net, ...; staging.cfg_freemail_domains) names a person, never a company, so it
-- only ever maps through an address. An address or domain claimed by two clients in
-- the CRM is ambiguous and left out; the config always wins.
WITH candidates AS (
    SELECT 'address' AS kind, address AS value, client_id, 1 AS priority
    FROM staging.cfg_client_addresses
    UNION ALL
    SELECT 'address', email, client_id, 2
    FROM staging.crm_contacts
    WHERE client_id IS NOT NULL AND email LIKE '%_@_%'
    UNION ALL
    SELECT 'domain', domain, client_id, 1
    FROM staging.cfg_client_domains
    UNION ALL
    SELECT 'domain', lower(trim(domain)), client_id, 2
    FROM staging.crm_companies
    WHERE client_id IS NOT NULL AND nullif(trim(domain), '') IS NOT NULL
),

usable AS (
    SELECT c.*
    FROM candidates AS c
    WHERE NOT (c.kind = 'domain' AND c.value IN (SELECT domain FROM staging.cfg_freemail_domains))
        AND c.value NOT IN (SELECT domain FROM staging.cfg_internal_domains)
        AND split_part(c.value, '@', 2) NOT IN (SELECT domain FROM staging.cfg_internal_domains)
),

best AS (
    SELECT kind, value, min(priority) AS priority
    FROM usable
    GROUP BY kind, value
)

SELECT u.kind, u.value, any_value(u.client_id) AS client_id
FROM usable AS u
JOIN best AS b USING (kind, value, priority)
GROUP BY u.kind, u.value
HAVING count(DISTINCT u.client_id) = 1

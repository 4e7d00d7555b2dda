-- CRM owners (the agency's users records are assigned to), with the configured account
-- manager of the same email. Deactivated owners stay, with `active` false: they still
-- own past records.
WITH managers AS (
    SELECT account_manager_id, lower(account_manager_email) AS email
    FROM staging.cfg_account_managers
)

SELECT
    o.id AS owner_id,
    lower(o.payload ->> 'email') AS email,
    trim(concat_ws(' ', o.payload ->> 'firstName', o.payload ->> 'lastName')) AS owner_name,
    NOT o.archived AS active,
    m.account_manager_id
FROM raw.crm_objects AS o
LEFT JOIN managers AS m ON m.email = lower(o.payload ->> 'email')
WHERE o.object_type = 'owners'

-- More of the config as tables: account managers, the segmentation inputs and the
-- per-client input values, and each client's yearly marketing budget if configured.

CREATE TABLE staging.cfg_account_managers (
    account_manager_id    VARCHAR PRIMARY KEY,
    account_manager_name  VARCHAR NOT NULL,
    account_manager_email VARCHAR NOT NULL
);

CREATE TABLE staging.cfg_segment_inputs (
    input_name   VARCHAR PRIMARY KEY,
    axis         VARCHAR NOT NULL,
    weight       DOUBLE NOT NULL,
    metric       VARCHAR,
    crm_property VARCHAR,
    zero_at      DOUBLE NOT NULL,
    full_at      DOUBLE NOT NULL
);

CREATE TABLE staging.cfg_client_segment_values (
    client_id  VARCHAR NOT NULL,
    input_name VARCHAR NOT NULL,
    value      DOUBLE NOT NULL,
    PRIMARY KEY (client_id, input_name)
);

ALTER TABLE staging.cfg_clients ADD COLUMN annual_marketing_budget DOUBLE;

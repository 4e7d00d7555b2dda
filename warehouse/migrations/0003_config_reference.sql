-- The agency config as tables, refreshed from the YAML at the start of every build,
-- so models and analysts can join on clients, domains, addresses and projects.

CREATE TABLE staging.cfg_clients (
    client_id            VARCHAR PRIMARY KEY,
    client_name          VARCHAR NOT NULL,
    account_manager_id   VARCHAR NOT NULL,
    account_manager_name VARCHAR NOT NULL,
    account_manager_email VARCHAR NOT NULL,
    crm_company_id       VARCHAR,
    language             VARCHAR NOT NULL,
    tier                 VARCHAR NOT NULL,
    stage                VARCHAR NOT NULL,
    contact_cadence_days INTEGER NOT NULL,
    first_reply_target_minutes DOUBLE NOT NULL,
    timezone             VARCHAR NOT NULL
);

CREATE TABLE staging.cfg_client_domains (
    domain    VARCHAR PRIMARY KEY,
    client_id VARCHAR NOT NULL
);

CREATE TABLE staging.cfg_client_addresses (
    address   VARCHAR PRIMARY KEY,
    client_id VARCHAR NOT NULL
);

CREATE TABLE staging.cfg_client_projects (
    project_gid VARCHAR PRIMARY KEY,
    client_id   VARCHAR NOT NULL
);

CREATE TABLE staging.cfg_internal_domains (
    domain VARCHAR PRIMARY KEY
);

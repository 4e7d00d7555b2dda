-- Every table in staging, intermediate and marts is now a model the build creates
-- (transforms/models, with its columns in each layer's _models.yml): the config seeds,
-- the JWZ threads and the business-hours calendar are no longer declared here.
-- Migrations keep raw and ops.
DROP TABLE IF EXISTS staging.cfg_clients;
DROP TABLE IF EXISTS staging.cfg_client_domains;
DROP TABLE IF EXISTS staging.cfg_client_addresses;
DROP TABLE IF EXISTS staging.cfg_client_projects;
DROP TABLE IF EXISTS staging.cfg_internal_domains;
DROP TABLE IF EXISTS staging.cfg_vendor_domains;
DROP TABLE IF EXISTS staging.cfg_freemail_domains;
DROP TABLE IF EXISTS staging.cfg_sla_targets;
DROP TABLE IF EXISTS staging.cfg_account_managers;
DROP TABLE IF EXISTS staging.cfg_segment_inputs;
DROP TABLE IF EXISTS staging.cfg_client_segment_values;
DROP TABLE IF EXISTS staging.cfg_business_hours;
DROP TABLE IF EXISTS staging.email_threads;
-- Tables the build moved to the intermediate layer.
DROP TABLE IF EXISTS marts.client_last_contact;
DROP TABLE IF EXISTS marts.client_overdue_tasks;
DROP TABLE IF EXISTS marts.client_segment_inputs;
DROP TABLE IF EXISTS staging.asana_due_periods;
CREATE SCHEMA IF NOT EXISTS intermediate;

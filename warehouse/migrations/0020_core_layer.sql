-- The facts and dimensions that other models read moved to the core layer (staging → core
-- → intermediate → marts: layers only go down); the build creates them there. The copies
-- an earlier build left in marts and intermediate are dropped so no reader finds them.
CREATE SCHEMA IF NOT EXISTS core;
DROP TABLE IF EXISTS marts.dim_client;
DROP TABLE IF EXISTS marts.fct_email_sla;
DROP TABLE IF EXISTS marts.fct_task_delivery;
DROP TABLE IF EXISTS marts.fct_task_slips;
DROP TABLE IF EXISTS marts.client_relationship;
DROP TABLE IF EXISTS marts.client_commercial_monthly;
DROP TABLE IF EXISTS marts.client_delivery_weekly;
DROP TABLE IF EXISTS intermediate.asana_due_periods;
DROP TABLE IF EXISTS intermediate.client_business_hours;

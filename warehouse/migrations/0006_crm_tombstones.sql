-- Archived CRM records stay in raw as tombstones: when the source archived them.
ALTER TABLE raw.crm_objects ADD COLUMN archived_at TIMESTAMPTZ;

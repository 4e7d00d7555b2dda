-- Asana completeness.
-- Tombstones: a task Asana no longer has (found by reconciliation or a `deleted` event)
-- keeps its row with `deleted_at` set; staging leaves it out. A task seen again is
-- upserted whole, which clears the tombstone.
ALTER TABLE raw.asana_tasks ADD COLUMN deleted_at TIMESTAMPTZ;
-- The task's parent (subtasks), and its home project: the first configured project
-- among the task's current projects (a subtask takes its parent's). A task moved out of
-- every configured project keeps the project Asana names, or none.
ALTER TABLE raw.asana_tasks ADD COLUMN parent_gid VARCHAR;
ALTER TABLE raw.asana_tasks ALTER COLUMN project_gid DROP NOT NULL;

CREATE TABLE raw.asana_sections (
    gid          VARCHAR PRIMARY KEY,
    project_gid  VARCHAR NOT NULL,
    payload      JSON NOT NULL,
    extracted_at TIMESTAMPTZ NOT NULL
);

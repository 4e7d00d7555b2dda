-- The earlier three-threshold rule's flag in the risk history is named as in
-- intermediate.client_threshold_rule (`threshold_rule_flagged`), so it cannot be taken for
-- the score's `at_risk`. The history keeps its weeks: only the column is renamed.
ALTER TABLE IF EXISTS intermediate.client_risk_history
    RENAME COLUMN rule_at_risk TO threshold_rule_flagged;

-- Why a manager rejected a client email (the reason asked for when rejecting in Slack,
-- kept by Airflow's HITL answer as params_input.reason); NULL for an approval.
ALTER TABLE ops.approvals ADD COLUMN reason VARCHAR;

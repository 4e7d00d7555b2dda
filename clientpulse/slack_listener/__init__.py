"""The Slack listener: answer approvals and alerts from Slack through Airflow's REST API
(Socket Mode, no public URL). Importable without Airflow; run with
`python -m clientpulse.slack_listener`."""

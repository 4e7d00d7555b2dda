"""ClientPulse: configuration, pipeline steps and reports, importable without Airflow."""

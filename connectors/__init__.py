"""Connectors: one module per external system. Pure Python, no Airflow imports."""

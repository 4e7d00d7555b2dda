"""Development and deployment tooling: `make demo` and the local Airflow runner (`make run`),
the compose topology and its smoke test (`make smoke`), the Airflow REST client, and the
deliberate re-send CLI. Nothing in `clientpulse/` imports it; the production image
runs none of it except the re-send CLI an operator calls by hand."""

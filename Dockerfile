# ClientPulse image: Airflow 3 and the project, installed from the committed lock.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/opt/clientpulse/.venv \
    PATH=/opt/clientpulse/.venv/bin:$PATH \
    AIRFLOW_HOME=/opt/airflow \
    GX_ANALYTICS_ENABLED=false

RUN pip install --no-cache-dir "uv==0.13.9" \
 && useradd --create-home --uid 50000 --gid 0 airflow \
 && mkdir -p /opt/airflow /opt/clientpulse /var/lib/clientpulse \
 && chown -R airflow:0 /opt/airflow /opt/clientpulse /var/lib/clientpulse

WORKDIR /opt/clientpulse
COPY --chown=airflow:0 pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --extra deploy --no-install-project
COPY --chown=airflow:0 . .
RUN uv sync --frozen --no-dev --extra deploy

USER airflow
ENV AIRFLOW__CORE__DAGS_FOLDER=/opt/clientpulse/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/clientpulse/plugins \
    PYTHONPATH=/opt/clientpulse/plugins
ENTRYPOINT ["airflow"]

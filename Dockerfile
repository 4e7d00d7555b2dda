# ClientPulse image: Airflow 3 and the project, installed from the committed lock (never
# with pip requirements added at container start). docker-compose.yml runs every service from it.
FROM python:3.11-slim-bookworm

# Bytecode is compiled once, at install (UV_COMPILE_BYTECODE for the dependencies,
# compileall for the project's own code): task processes never write it, and without it
# each one would compile every import again (a build task's imports: 9 s instead of 4).
ENV PYTHONDONTWRITEBYTECODE=1 \
    UV_COMPILE_BYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/opt/clientpulse/.venv \
    PATH=/opt/clientpulse/.venv/bin:$PATH \
    AIRFLOW_HOME=/opt/airflow \
    GX_ANALYTICS_ENABLED=false

# curl for the healthchecks; gcc for connectors/mailboxes/_mailscan.c, which installing the
# project compiles (hatch_build.py); the volume mount points exist so named volumes get
# the airflow user's ownership on first use.
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/* \
 && pip install --no-cache-dir "uv==0.13.9" \
 && useradd --create-home --uid 50000 --gid 0 airflow \
 && mkdir -p /opt/airflow/logs /opt/airflow/auth /opt/clientpulse \
             /var/lib/clientpulse/warehouse /var/lib/clientpulse/snapshot /var/lib/clientpulse/mail \
 && chown -R airflow:0 /opt/airflow /opt/clientpulse /var/lib/clientpulse

WORKDIR /opt/clientpulse
COPY --chown=airflow:0 pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --extra deploy --no-install-project
COPY --chown=airflow:0 . .
RUN uv sync --frozen --no-dev --extra deploy \
 && python -m compileall -q clientpulse connectors dags plugins transforms warehouse

USER airflow
ENV AIRFLOW__CORE__DAGS_FOLDER=/opt/clientpulse/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/clientpulse/plugins \
    PYTHONPATH=/opt/clientpulse/plugins
ENTRYPOINT ["airflow"]

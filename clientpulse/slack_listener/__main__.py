"""`python -m clientpulse.slack_listener`: run the Slack listener until stopped."""

from __future__ import annotations

import logging
import signal
import sys
import threading

from clientpulse.config import load_config
from clientpulse.slack_listener.actions import Listener
from clientpulse.slack_listener.airflow import AirflowActions
from clientpulse.slack_listener.service import (
    Settings,
    SettingsError,
    connect,
    serve_health,
    web_client,
)


def main() -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"slack listener: {exc}", file=sys.stderr)
        return 2
    listener = Listener(
        config=load_config(),
        airflow=AirflowActions(settings.airflow_url, settings.passwords),
        slack=web_client(settings.bot_token, settings.slack_api_url),
        admins=settings.admins,
    )
    client = connect(listener, settings)
    health = serve_health(client, settings.health_port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    logging.getLogger(__name__).info("listening (health on :%d)", settings.health_port)
    stop.wait()
    health.shutdown()
    client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

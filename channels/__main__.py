"""``python -m channels``: serve the web app with waitress."""

import logging

from waitress import serve

from bokji.logging_setup import configure_logging
from channels.app import create_app
from channels.log_filters import redact_request_logs
from channels.privacy.tracker import TrackerEvents
from channels.rasa_client import RasaClient
from channels.server_errors import create_korean_server
from channels.settings import AppSettings
from channels.warm_up import WarmUp


def main() -> None:
    """Build settings once and serve."""
    settings = AppSettings()
    configure_logging("web", settings.log_format, settings.log_level)  # masked; JSON lines carry the request id
    redact_request_logs()  # httpx logs URLs, and Rasa's token travels in the tracker read's URL
    logging.getLogger(__name__).info("web app on http://%s:%d", settings.web_host, settings.web_port)
    app = create_app(settings)
    # /healthz turns green only after a real turn went through Rasa and the action server (channels/warm_up.py).
    warm_up = WarmUp(RasaClient(settings.rasa_url, settings.rasa_timeout_s), TrackerEvents(settings.tracker_database()).erase)
    app.extensions["bokji.warm_up"] = warm_up
    warm_up.start()
    # waitress's own errors (bad request lines, oversized headers) in Korean JSON too
    serve(
        app,
        host=settings.web_host,
        port=settings.web_port,
        threads=settings.web_threads,
        connection_limit=settings.web_connection_limit,
        _server=create_korean_server,
    )


main()

"""``python -m channels``: serve the web app with waitress."""

import logging

from waitress import serve

from channels.app import create_app
from channels.settings import AppSettings


def main() -> None:
    """Build settings once and serve."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s web %(levelname)s %(message)s")
    settings = AppSettings()
    logging.getLogger(__name__).info("web app on http://%s:%d", settings.web_host, settings.web_port)
    serve(create_app(settings), host=settings.web_host, port=settings.web_port, threads=settings.web_threads)


main()

"""Settings of the web app process."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from knowledge.settings import PROJECT_ROOT, ProcessSettings


class AppSettings(ProcessSettings):
    """Read once in ``python -m channels`` (``BOKJI_WEB_PORT``, ``BOKJI_RASA_URL`` ...)."""

    web_host: str = Field("127.0.0.1", description="Interface the web app listens on")
    web_port: int = Field(8000, ge=1, le=65535, description="Port of the web app")
    web_threads: int = Field(8, ge=1, le=64, description="Waitress worker threads")
    rasa_url: str = Field("http://127.0.0.1:5005", description="Rasa server (REST webhook)")
    actions_url: str = Field("http://127.0.0.1:5055", description="Action server, for health checks")
    rasa_timeout_s: float = Field(20.0, gt=0, description="How long to wait for Rasa's reply")
    max_text_chars: int = Field(1000, ge=1, description="Longest message a citizen may send")
    max_body_bytes: int = Field(16 * 1024, ge=1024, description="Largest request body accepted")
    data_dir: Path = Field(PROJECT_ROOT / "var", description="Transcripts and handoffs database folder")

"""Settings of the action server process."""

from __future__ import annotations

from pydantic import Field

from knowledge.settings import ProcessSettings


class ActionServerSettings(ProcessSettings):
    """Read once in ``python -m actions``; ``BOKJI_ACTIONS_PORT`` etc."""

    actions_host: str = Field("127.0.0.1", description="Interface the action server listens on")
    actions_port: int = Field(5055, ge=1, le=65535, description="Port Rasa calls (action_endpoint)")

"""Settings of the action server process."""

from __future__ import annotations

from pydantic import Field

from knowledge.settings import ProcessSettings


class ActionServerSettings(ProcessSettings):
    """Read once in ``python -m actions``; ``BOKJI_ACTIONS_PORT`` etc."""

    actions_host: str = Field("127.0.0.1", description="Interface the action server listens on")
    actions_port: int = Field(5055, ge=1, le=65535, description="Port Rasa calls (action_endpoint)")
    stream_keep_s: float = Field(120.0, gt=0, description="How long a finished streamed answer stays readable by the web app")
    stream_max_open: int = Field(
        32, ge=1, description="Answers streamed at once; beyond this a channel gets the whole answer at the end of the turn"
    )
    stream_idle_timeout_s: float = Field(
        40.0, gt=0, description="A stream reader gives up after this long without an event (the model deadline is shorter)"
    )

"""Settings of the action server process."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator

from knowledge.settings import ProcessSettings


class ActionServerSettings(ProcessSettings):
    """Read once in ``python -m actions``; ``BOKJI_ACTIONS_PORT`` etc."""

    actions_host: str = Field("127.0.0.1", description="Interface the action server listens on")
    actions_port: int = Field(5055, ge=1, le=65535, description="Port Rasa calls (action_endpoint)")
    actions_token: SecretStr = Field(
        SecretStr(""),
        description="Shared secret Rasa and the web app send (X-Bokji-Actions-Token); required, `bokji run` makes one",
    )
    stream_keep_s: float = Field(120.0, gt=0, description="How long a finished streamed answer stays readable by the web app")
    stream_max_open: int = Field(
        32, ge=1, description="Answers streamed at once; beyond this a channel gets the whole answer at the end of the turn"
    )
    answer_budget_s: float = Field(
        2.5,
        gt=0,
        description=(
            "How long a turn on a channel that does not stream waits for the model (a channel may send a shorter"
            " `answer_budget_s` in the message metadata); past it the model is cancelled and the extract is given"
        ),
    )
    stream_idle_timeout_s: float = Field(
        40.0, gt=0, description="A stream reader gives up after this long without an event (the model deadline is shorter)"
    )

    @model_validator(mode="after")
    def _stream_outlasts_the_model(self) -> ActionServerSettings:
        """A stream reader must not give up while the model is still within its deadlines."""
        llm = self.knowledge.llm
        if self.stream_idle_timeout_s <= llm.timeout_s + llm.rewrite_timeout_s:
            raise ValueError(
                f"BOKJI_STREAM_IDLE_TIMEOUT_S ({self.stream_idle_timeout_s:g}) must be larger than "
                f"BOKJI_KNOWLEDGE__LLM__TIMEOUT_S + REWRITE_TIMEOUT_S ({llm.timeout_s + llm.rewrite_timeout_s:g})"
            )
        return self

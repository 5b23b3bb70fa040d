"""Settings of the web app process."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, model_validator

from knowledge.settings import PROJECT_ROOT, ProcessSettings


class WidgetSettings(BaseModel):
    """The embeddable website widget and the endpoints only it uses."""

    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Origins of city pages that may embed the widget from another host ('*' for any); same-origin always works",
    )
    history_limit: int = Field(50, ge=1, le=500, description="Most messages the history endpoint returns")
    streaming: bool = Field(True, description="Stream generated answers sentence by sentence to widgets that ask for it")
    stream_timeout_s: float = Field(
        45.0, gt=0, description="Longest wait for the next piece of a streamed answer before it counts as failed"
    )


class KakaoSettings(BaseModel):
    """The KakaoTalk skill endpoint (Kakao i Open Builder)."""

    token: SecretStr = Field(
        SecretStr(""),
        description="Shared secret: X-Bokji-Kakao-Token header or /kakao/skill/<token>; empty turns the endpoint off",
    )
    answer_budget_s: float = Field(
        3.5, gt=0, le=4.5, description="How long a skill request waits for the answer before it replies without it"
    )
    callback_window_s: float = Field(
        50.0, gt=0, le=58, description="Deadline for posting to a callbackUrl (Kakao keeps it valid for one minute)"
    )
    callback_timeout_s: float = Field(5.0, gt=0, le=30, description="HTTP timeout of the POST to a callbackUrl")
    callback_hosts: list[str] = Field(
        default_factory=lambda: ["kakao.com", "kakaoenterprise.com"],
        description="Hosts (and their subdomains) a callbackUrl may point to; loopback hosts may use plain http",
    )
    workers: int = Field(8, ge=1, le=64, description="Threads that compute answers in the background")
    max_in_flight: int = Field(64, ge=1, description="Answers being computed at once before new messages are turned away")
    pending_ttl_s: float = Field(600.0, gt=0, description="How long an undelivered answer waits for the user's next message")
    operator_button: bool = Field(
        True, description="Offer Kakao's 상담직원 연결 (operator) button on handoffs; needs 상담톡 or 1:1 chat on the channel"
    )


class AppSettings(ProcessSettings):
    """Read once in ``python -m channels`` (``BOKJI_WEB_PORT``, ``BOKJI_RASA_URL``, ``BOKJI_KAKAO__TOKEN`` ...)."""

    web_host: str = Field("127.0.0.1", description="Interface the web app listens on")
    web_port: int = Field(8000, ge=1, le=65535, description="Port of the web app")
    web_threads: int = Field(8, ge=1, le=64, description="Waitress worker threads")
    rasa_url: str = Field("http://127.0.0.1:5005", description="Rasa server (REST webhook)")
    actions_url: str = Field("http://127.0.0.1:5055", description="Action server: health checks and streamed answers")
    rasa_timeout_s: float = Field(20.0, gt=0, description="How long to wait for Rasa's reply")
    max_text_chars: int = Field(1000, ge=1, description="Longest message a citizen may send")
    max_body_bytes: int = Field(16 * 1024, ge=1024, description="Largest request body accepted")
    data_dir: Path = Field(PROJECT_ROOT / "var", description="Transcripts and handoffs database folder")
    widget: WidgetSettings = Field(default_factory=WidgetSettings)
    kakao: KakaoSettings = Field(default_factory=KakaoSettings)

    @model_validator(mode="after")
    def _stream_outlasts_the_model(self) -> AppSettings:
        """A streamed answer is silent while the model reads its prompt: the wait must outlast the model's deadlines."""
        llm = self.knowledge.llm
        if self.widget.stream_timeout_s <= llm.timeout_s + llm.rewrite_timeout_s:
            raise ValueError(
                f"BOKJI_WIDGET__STREAM_TIMEOUT_S ({self.widget.stream_timeout_s:g}) must be larger than "
                f"BOKJI_KNOWLEDGE__LLM__TIMEOUT_S + REWRITE_TIMEOUT_S ({llm.timeout_s + llm.rewrite_timeout_s:g})"
            )
        return self

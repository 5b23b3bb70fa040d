"""Settings of the web app process."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from channels.office_hours import OfficeHours
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
    session_ttl_s: int = Field(
        8 * 3600,
        ge=60,
        le=7 * 24 * 3600,
        description="Lifetime of a citizen session token from its issue (POST /api/v1/widget/session); "
        "after it the widget starts a new conversation",
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
    claim_lease_s: float = Field(
        30.0,
        gt=0,
        le=600,
        description="How long a web replica's claim on a pending answer or held callbackUrl lasts before another "
        "replica may take it (the first one died while delivering)",
    )
    answer_lease_s: float = Field(
        180.0,
        gt=0,
        description="How long an answer may stay 'being computed' before any replica closes it with an apology "
        "(the replica computing it died; longer than Rasa's timeout plus a streamed answer's); its own replica closes it "
        "at once when it starts again",
    )
    operator_button: bool = Field(
        True, description="Offer Kakao's 상담직원 연결 (operator) button on handoffs; needs 상담톡 or 1:1 chat on the channel"
    )
    event_api: bool = Field(
        False,
        description="Also push staff replies at once through Kakao's paid Event API (15 KRW a message, needs a wallet); "
        "off: they reach the user with their next message or a callbackUrl still open",
    )
    event_api_url: str = Field("https://bot-api.kakao.com", description="Base URL of Kakao's Event API")
    rest_api_key: SecretStr = Field(SecretStr(""), description="REST API key of the Kakao app (Event API only)")
    bot_id: str = Field("", description="The chatbot's bot id (Event API only; a development channel's id ends with '!')")
    event_name: str = Field(
        "bokji_agent_reply", description="Event name of the block that shows the staff message (its text is event data 'text')"
    )
    event_timeout_s: float = Field(5.0, gt=0, le=30, description="HTTP timeout of an Event API call")

    @model_validator(mode="after")
    def _event_api_configured(self) -> KakaoSettings:
        """The Event API needs its key and bot id: refuse to start half-configured rather than fail silently later."""
        if self.event_api and not (self.rest_api_key.get_secret_value() and self.bot_id):
            raise ValueError("BOKJI_KAKAO__EVENT_API needs BOKJI_KAKAO__REST_API_KEY and BOKJI_KAKAO__BOT_ID")
        return self


class HandoffSettings(BaseModel):
    """When and how a chat goes to a person (channels/handoff.py)."""

    office_hours: str = Field(
        "mon-fri 09:00-18:00", description="When staff answer chats, e.g. 'mon-fri 09:00-18:00; sat 09:00-13:00'"
    )
    timezone: str = Field("Asia/Seoul", description="Time zone of the office hours")
    holidays: list[date] = Field(default_factory=list, description="Days the office is closed (YYYY-MM-DD)")
    presence_s: float = Field(
        90.0, gt=0, description="An agent counts as on duty while their console was seen within this many seconds"
    )
    urgent_sla_minutes: float = Field(
        3.0, gt=0, description="An urgent chat nobody claims within this many minutes is flagged for every agent"
    )
    unanswered_in_a_row: int = Field(
        2, ge=1, le=10, description="Bot answers in a row that found nothing before a person is called"
    )
    typing_s: float = Field(6.0, gt=0, le=60, description="How long a typing indicator lasts without a new keystroke")

    @field_validator("office_hours")
    @classmethod
    def _readable(cls, value: str) -> str:
        OfficeHours.parse(value)
        return value

    def hours(self) -> OfficeHours:
        """The parsed office hours."""
        return OfficeHours.parse(self.office_hours, self.timezone, self.holidays)


class ConsoleSettings(BaseModel):
    """Staff sign-in and the console."""

    secret_key: SecretStr = Field(
        SecretStr(""), description="Signs session cookies and CSRF tokens; empty: a random key kept in <data_dir>/secret_key"
    )
    cookie_secure: bool = Field(True, description="Send the session cookie over HTTPS only (browsers allow localhost)")
    session_hours: float = Field(10.0, gt=0, le=24 * 7, description="A sign-in lasts this long")
    lockout_attempts: int = Field(5, ge=1, description="Wrong passwords in a row before the account is locked")
    lockout_minutes: float = Field(15.0, gt=0, description="How long a locked account stays locked")


class RateLimitSettings(BaseModel):
    """Rate limits and budgets (channels/rate_limits.py); a crisis message is never refused."""

    enabled: bool = Field(True, description="Apply the limits below (off only for load tests)")
    storage_uri: str = Field(
        "memory://",
        description="Where counts live: memory:// (one process) or redis://host:6379 when several web processes share them",
    )
    per_client: str = Field(
        "300/minute", description="Requests to the citizen endpoints (/api/v1/*) per client address; generous: offices share one"
    )
    per_session: str = Field(
        "20/minute", description="Messages per conversation (widget session or KakaoTalk user) on the chat endpoints"
    )
    session_chars: str = Field(
        "6000/minute",
        description="Analysis budget: characters per conversation, so floods of maximal messages wait their turn",
    )
    login: str = Field("10/minute", description="Sign-in attempts per client address (on top of the account lockout)")
    sessions: str = Field("60/hour", description="New citizen sessions (POST /api/v1/widget/session) per client address")
    handoffs: str = Field(
        "10/hour",
        description="New requests for a person per client address, so the queue cannot be flooded (crisis: never limited)",
    )
    proxy_hops: int = Field(
        0,
        ge=0,
        le=5,
        description="Reverse proxies in front that append to X-Forwarded-For; 0: the connecting address is the client's",
    )


class PrivacySettings(BaseModel):
    """Personal data: pseudonymous channel user ids and how long conversations are kept (channels/privacy/)."""

    id_key: SecretStr = Field(
        SecretStr(""),
        description="Key of the HMAC that turns channel user ids (Kakao botUserKey) into sender ids; "
        "empty: a random key kept in <data_dir>/id_key. Changing it starts new conversations for every Kakao user",
    )
    retention_days: int = Field(
        180,
        ge=1,
        le=3650,
        description="`bokji purge` deletes conversations, ratings, ended handoffs and their notes older than this",
    )


class AdminSettings(BaseModel):
    """The knowledge admin (/admin): who may publish FAQ changes."""

    self_publish: bool = Field(
        False,
        description="Editors publish their own edits without an admin's approval (small teams); off: admins approve",
    )


class AppSettings(ProcessSettings):
    """Read once in ``python -m channels`` (``BOKJI_WEB_PORT``, ``BOKJI_RASA_URL``, ``BOKJI_KAKAO__TOKEN`` ...)."""

    web_host: str = Field("127.0.0.1", description="Interface the web app listens on")
    web_port: int = Field(8000, ge=1, le=65535, description="Port of the web app")
    web_threads: int = Field(
        32,
        ge=1,
        le=256,
        description="Waitress worker threads: each open live-update stream (a widget in a handoff, a console) holds one",
    )
    web_connection_limit: int = Field(
        1000,
        ge=10,
        le=100_000,
        description="Open connections the web app accepts at once (waitress's default of 100 made citizens past the "
        "100th wait for an idle keep-alive connection to time out when the web app is reached without a proxy)",
    )
    rasa_url: str = Field("http://127.0.0.1:5005", description="Rasa server (REST webhook)")
    actions_url: str = Field("http://127.0.0.1:5055", description="Action server: health checks and streamed answers")
    rasa_token: SecretStr = Field(
        SecretStr(""), description="Rasa's --auth-token, sent on the tracker read (the one HTTP-API call); `bokji run` makes one"
    )
    actions_token: SecretStr = Field(
        SecretStr(""), description="The action server's shared secret (X-Bokji-Actions-Token header); `bokji run` makes one"
    )
    rasa_timeout_s: float = Field(20.0, gt=0, description="How long to wait for Rasa's reply")
    api_keys: SecretStr = Field(
        SecretStr(""),
        description="Keys of the public chat API /api/v1/chat as comma-separated name:key pairs (Authorization: Bearer "
        "<key>; each key's conversations are kept apart as api:<name>:<session_id>; names 1-24 of A-Z a-z 0-9 _ -, "
        "keys at least 16 characters, checked at start); empty: the API is off",
    )
    max_text_chars: int = Field(1000, ge=1, description="Longest message a citizen may send")
    max_body_bytes: int = Field(16 * 1024, ge=1024, description="Largest request body accepted")
    data_dir: Path = Field(PROJECT_ROOT / "var", description="Folder of the default SQLite database and the secret key")
    database_url: str = Field(
        "", description="SQLAlchemy URL of the staff database (postgresql+psycopg://...); empty: SQLite in data_dir"
    )
    tracker_url: str = Field(
        "",
        description="SQLAlchemy URL of Rasa's tracker store (erasing and purging conversations); empty: the staff "
        "database on PostgreSQL, else <data_dir>/rasa_tracker.sqlite3 (what `bokji run` gives Rasa)",
    )
    process_restarts_file: Path | None = Field(
        None,
        description="JSON file {process: restarts} that `bokji run` keeps (bokji_process_restarts_total); none: not reported",
    )
    widget: WidgetSettings = Field(default_factory=WidgetSettings)
    kakao: KakaoSettings = Field(default_factory=KakaoSettings)
    handoff: HandoffSettings = Field(default_factory=HandoffSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)
    admin: AdminSettings = Field(default_factory=AdminSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    rate_limit: RateLimitSettings = Field(default_factory=RateLimitSettings)

    def database(self) -> str:
        """The staff database URL (SQLite file in ``data_dir`` unless ``BOKJI_DATABASE_URL`` is set)."""
        return self.database_url or f"sqlite:///{self.data_dir / 'conversations.sqlite3'}"

    def tracker_database(self) -> str:
        """Rasa's tracker store as the web app opens it (``BOKJI_TRACKER_URL``, or derived from the staff database)."""
        from channels.privacy.tracker import tracker_database_url

        return self.tracker_url or tracker_database_url(self.database_url, self.data_dir)

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

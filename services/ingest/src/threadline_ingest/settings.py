"""Ingest settings, from THREADLINE_INGEST_* variables (Kafka from KAFKA_*)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from threadline_common.settings import ServiceSettings, reject_placeholder

BOT_SCOPES = (
    "channels:history",
    "groups:history",
    "im:history",
    "channels:read",
    "groups:read",
    "im:read",
    "im:write",
    "channels:join",
    "chat:write",
    "reactions:read",
    "reactions:write",
    "users:read",
    "users:read.email",
    "files:read",
    "files:write",
    "commands",
    "usergroups:read",
)

# A comma-separated environment variable read as a list ("C1,C2").
CommaList = Annotated[list[str], NoDecode]


class IngestSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="THREADLINE_INGEST_", extra="ignore")

    # HTTP delivery (Events API, interactivity, slash commands): the app's signing secret.
    slack_signing_secret: SecretStr | None = None
    # xapp-... app-level token: receive the same requests over Socket Mode (no public endpoint).
    slack_app_token: SecretStr | None = None
    # Where Socket Mode asks for its websocket URL (apps.connections.open); a sandbox in tests.
    slack_api_url: str = "https://slack.com/api/"
    # Workspaces (team or enterprise ids) and Slack app ids accepted; empty accepts any.
    slack_team_ids: CommaList = Field(default_factory=list)
    slack_app_ids: CommaList = Field(default_factory=list)
    # Channels Threadline serves; events from other channels are dropped at the edge. Empty: all.
    monitored_channels: CommaList = Field(default_factory=list)
    # Direct messages to the app (D... channels) are private requests: published when true
    # (the channels file's direct_messages.enabled; the chart sets both from one value).
    direct_messages: bool = False
    # Zendesk webhook signing secret (X-Zendesk-Webhook-Signature).
    zendesk_webhook_secret: SecretStr | None = None
    # Legacy trigger/target bodies carrying {"token": ...}; unset refuses them.
    zendesk_legacy_token: SecretStr | None = None
    # Authentication a Zendesk webhook or target may send instead of a token (its "basic_auth" or
    # "bearer_token" setting); unset refuses Authorization headers.
    zendesk_basic_auth_username: str | None = None
    zendesk_basic_auth_password: SecretStr | None = None
    zendesk_bearer_token: SecretStr | None = None
    # Several workspaces (OAuth v2 install, README "Several workspaces"): the app's Client ID and
    # Client Secret, the key installations are encrypted with (Fernet keys, comma-separated,
    # newest first), and the public URL of /slack/oauth_redirect (one of the app's Redirect URLs).
    # All four or none: without them /slack/install is not served and the single bot token is used.
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_installations_key: SecretStr | None = None
    slack_oauth_redirect_uri: str | None = None
    # The bot scopes an install asks for: threadline-ops slack-manifest's (a test holds them equal).
    slack_oauth_scopes: CommaList = Field(default_factory=lambda: list(BOT_SCOPES))
    slack_oauth_user_scopes: CommaList = Field(default_factory=list)
    slack_authorize_url: str = "https://slack.com/oauth/v2/authorize"
    oauth_state_seconds: int = Field(default=600, gt=0)
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    # Slack gives up after 3 s: answer 503 (so it retries) well before that.
    ack_timeout_seconds: float = Field(default=2.0, gt=0, le=2.8)
    signature_max_age_seconds: int = Field(default=300, gt=0)
    # Event ids recently acknowledged: Slack's retries of them are answered without republishing.
    dedup_cache_size: int = Field(default=20000, ge=0)
    # At shutdown, how long to wait for Kafka to take what is still queued.
    flush_timeout_seconds: float = Field(default=20.0, ge=0)
    host: str = "0.0.0.0"
    port: int = Field(default=8080, ge=0, le=65535)
    # uvicorn worker processes sharing the port, each with its own event loop and producer: one
    # process's loop saturates one core (README, "Scale").
    workers: int = Field(default=1, ge=1, le=64)

    @field_validator(
        "slack_team_ids",
        "slack_app_ids",
        "monitored_channels",
        "slack_oauth_scopes",
        "slack_oauth_user_scopes",
        mode="before",
    )
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @field_validator(
        "slack_signing_secret",
        "slack_app_token",
        "zendesk_webhook_secret",
        "zendesk_legacy_token",
        "zendesk_basic_auth_password",
        "zendesk_bearer_token",
        "slack_client_secret",
        "slack_installations_key",
    )
    @classmethod
    def _no_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        return reject_placeholder(value, "a secret")

    @field_validator("slack_app_token")
    @classmethod
    def _app_level_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token (xapp-...), not a bot or user token")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> IngestSettings:
        if self.slack_signing_secret is None and self.slack_app_token is None:
            raise ValueError("set THREADLINE_INGEST_SLACK_SIGNING_SECRET (HTTP) or THREADLINE_INGEST_SLACK_APP_TOKEN")
        if (self.zendesk_basic_auth_username is None) != (self.zendesk_basic_auth_password is None):
            raise ValueError("set both THREADLINE_INGEST_ZENDESK_BASIC_AUTH_USERNAME and _PASSWORD, or neither")
        oauth = {
            "SLACK_CLIENT_ID": self.slack_client_id,
            "SLACK_CLIENT_SECRET": self.slack_client_secret,
            "SLACK_INSTALLATIONS_KEY": self.slack_installations_key,
            "SLACK_OAUTH_REDIRECT_URI": self.slack_oauth_redirect_uri,
        }
        missing = [f"THREADLINE_INGEST_{k}" for k, v in oauth.items() if v is None]
        if 0 < len(missing) < len(oauth):
            raise ValueError(f"several workspaces (OAuth) needs all four settings; missing {', '.join(missing)}")
        if self.slack_installations_key is not None:
            from threadline_common.installations import InstallationCipher, InstallationKeyError

            try:
                InstallationCipher(self.slack_installations_key.get_secret_value())
            except InstallationKeyError as exc:
                raise ValueError(str(exc)) from None
        return self

    @property
    def oauth(self) -> bool:
        """Several workspaces: the OAuth install flow is served, installations are stored."""
        return self.slack_client_id is not None

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

"""Ingest settings, from THREADLINE_INGEST_* variables (Kafka from KAFKA_*)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from threadline_common.settings import ServiceSettings, reject_placeholder

CommaList = Annotated[list[str], NoDecode]


class IngestSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="THREADLINE_INGEST_", extra="ignore")

    slack_signing_secret: SecretStr | None = None
    # xapp-... token: receive Slack over Socket Mode instead of (or besides) HTTP.
    slack_app_token: SecretStr | None = None
    # Workspaces (team or enterprise ids) and app ids accepted; empty accepts any.
    slack_team_ids: CommaList = Field(default_factory=list)
    slack_app_ids: CommaList = Field(default_factory=list)
    # Channels Threadline serves; events elsewhere are dropped at the edge. Empty: all.
    monitored_channels: CommaList = Field(default_factory=list)
    zendesk_webhook_secret: SecretStr | None = None
    # Shared token of legacy trigger/target bodies ({"token": ...}); unset disables them.
    zendesk_legacy_token: SecretStr | None = None
    max_body_bytes: int = 1024 * 1024
    ack_timeout_seconds: float = Field(default=2.0, gt=0, le=2.8)
    signature_max_age_seconds: int = 300
    dedup_cache_size: int = 20000
    host: str = "0.0.0.0"
    port: int = 8080

    @field_validator("slack_team_ids", "slack_app_ids", "monitored_channels", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @field_validator("slack_signing_secret", "slack_app_token", "zendesk_webhook_secret", "zendesk_legacy_token")
    @classmethod
    def _no_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        return reject_placeholder(value, "a secret")

    @model_validator(mode="after")
    def _some_door(self) -> IngestSettings:
        if self.slack_signing_secret is None and self.slack_app_token is None:
            raise ValueError("set THREADLINE_INGEST_SLACK_SIGNING_SECRET (HTTP) or THREADLINE_INGEST_SLACK_APP_TOKEN")
        return self

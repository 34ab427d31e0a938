"""threadline-ops settings: Kafka from KAFKA_* (with KAFKA_TOPIC_PREFIX); Slack and Zendesk from
THREADLINE_OPS_*, or from the router's and zendesk-sync's own variables, so that the command runs
as it is inside either service's pod. Each subcommand asks only for what it uses."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from threadline_common.settings import ServiceSettings, reject_placeholder


def _env(name: str) -> AliasChoices:
    return AliasChoices(f"THREADLINE_OPS_{name}", f"THREADLINE_ZENDESK_SYNC_{name}")


class OpsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="THREADLINE_OPS_", extra="ignore", populate_by_name=True)

    slack_bot_token: SecretStr | None = Field(default=None, validation_alias=_env("SLACK_BOT_TOKEN"))
    slack_api_url: str | None = Field(default=None, validation_alias=_env("SLACK_API_URL"))
    # Several workspaces (README "Several workspaces"): the key the installations are encrypted
    # with; set, the Slack checks and calls use each workspace's install from its topic.
    slack_installations_key: SecretStr | None = Field(default=None, validation_alias=_env("SLACK_INSTALLATIONS_KEY"))
    zendesk_subdomain: str | None = Field(default=None, validation_alias=_env("ZENDESK_SUBDOMAIN"))
    zendesk_email: str | None = Field(default=None, validation_alias=_env("ZENDESK_EMAIL"))
    zendesk_api_token: SecretStr | None = Field(default=None, validation_alias=_env("ZENDESK_API_TOKEN"))
    zendesk_oauth_token: SecretStr | None = Field(default=None, validation_alias=_env("ZENDESK_OAUTH_TOKEN"))
    zendesk_ticket_url: str | None = Field(default=None, validation_alias=_env("ZENDESK_TICKET_URL"))
    # The router's channel file: backfill refuses channels Threadline does not serve.
    channels_file: Path | None = Field(
        default=None, validation_alias=AliasChoices("THREADLINE_OPS_CHANNELS_FILE", "THREADLINE_ROUTER_CHANNELS_FILE")
    )
    # How long relink and unlink wait to see the router apply them (0: do not wait).
    wait_seconds: float = Field(default=30.0, ge=0)
    kafka_timeout_seconds: float = Field(default=15.0, gt=0)

    @field_validator("slack_bot_token", "slack_installations_key", "zendesk_api_token", "zendesk_oauth_token")
    @classmethod
    def _no_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        return reject_placeholder(value, "a token")

    def ticket_url(self, ticket_id: int) -> str:
        base = self.zendesk_ticket_url or f"https://{self.zendesk_subdomain}.zendesk.com/agent/tickets/"
        return f"{base.rstrip('/')}/{ticket_id}"

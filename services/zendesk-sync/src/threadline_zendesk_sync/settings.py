"""zendesk-sync settings, from THREADLINE_ZENDESK_SYNC_* variables (Kafka from KAFKA_*)."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from threadline_common.settings import ServiceSettings, reject_placeholder


class ZendeskSyncSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="THREADLINE_ZENDESK_SYNC_", extra="ignore")

    app_id: str = "threadline-zendesk-sync"
    zendesk_subdomain: str
    zendesk_email: str | None = None
    zendesk_api_token: SecretStr | None = None
    zendesk_oauth_token: SecretStr | None = None
    # Where people open a ticket; Zendesk's agent UI unless set.
    zendesk_ticket_url: str | None = None
    slack_bot_token: SecretStr
    # Several workspaces (OAuth installs, README "Several workspaces"): the key ingest encrypts
    # installations with. Set: each command's Slack calls use its team's bot token from
    # threadline.slack.installations, the single token above for a team without an install.
    slack_installations_key: SecretStr | None = None
    # A Slack-compatible API root (the sandbox); Slack's own when unset.
    slack_api_url: str | None = None
    # Requests per minute Threadline may make to Zendesk (share of the account's limit).
    zendesk_budget_per_minute: int = 400
    # Seconds between posts in one Slack channel (Slack allows about one per second).
    slack_channel_interval_seconds: float = 1.0
    zendesk_timeout_seconds: float = 30.0
    slack_timeout_seconds: float = 30.0
    # Commands held at once (running or waiting their turn in their conversation); more waits in Kafka.
    max_in_flight: int = 256
    # Zendesk calls in flight at once (zenpy is synchronous: one thread each).
    zendesk_concurrency: int = 16
    # Cap of the exponential pause between attempts (a Retry-After from Slack or Zendesk wins).
    # Transient failures are retried for as long as they last; only a permanent one is dead-lettered.
    max_backoff_seconds: float = 30.0
    # A question waiting this long on an unreachable Zendesk hears, once, that it is queued.
    queued_notice_after_seconds: float = 60.0
    # Held work with no progress for this long means a stuck worker (/healthz answers 503).
    liveness_max_age_seconds: float = 300.0
    # Larger Slack files stay in Slack; the comment says so.
    max_file_bytes: int = 20 * 1024 * 1024
    # PagerDuty (on call named in threads); without a token, channels with on_call get a failure notice.
    pagerduty_api_token: SecretStr | None = None
    pagerduty_api_url: str = "https://api.pagerduty.com"
    # The reporter's API (`/support report`); without both, people hear that reports are not available here.
    reporter_api_url: str | None = None
    reporter_api_token: SecretStr | None = None
    # The operator's kill switch: commands wait in Kafka (nothing is read or committed) until it is off.
    disable_message_processing: bool = Field(
        default=False,
        validation_alias=AliasChoices(
            "DISABLE_MESSAGE_PROCESSING", "THREADLINE_ZENDESK_SYNC_DISABLE_MESSAGE_PROCESSING"
        ),
    )
    # The channels YAML (the router's): the user groups its teams and rotations name are read
    # from Slack every usergroup_refresh_seconds and their members told to the router.
    channels_file: Path | None = None
    usergroup_refresh_seconds: float = Field(default=300.0, gt=0)
    partitions: int = 6
    data_dir: Path = Path("/var/lib/threadline/zendesk-sync")
    web_host: str = "127.0.0.1"  # loopback unless told otherwise: the chart sets 0.0.0.0
    web_port: int = 6067
    session_timeout_seconds: float = 10.0

    @field_validator(
        "zendesk_api_token",
        "zendesk_oauth_token",
        "slack_bot_token",
        "pagerduty_api_token",
        "reporter_api_token",
        "slack_installations_key",
    )
    @classmethod
    def _no_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        return reject_placeholder(value, "a token")

    @model_validator(mode="after")
    def _zendesk_auth(self) -> ZendeskSyncSettings:
        if self.zendesk_oauth_token is None and (self.zendesk_api_token is None or not self.zendesk_email):
            raise ValueError(
                "set THREADLINE_ZENDESK_SYNC_ZENDESK_OAUTH_TOKEN, or _ZENDESK_EMAIL and _ZENDESK_API_TOKEN"
            )
        return self

    def ticket_url(self, ticket_id: int) -> str:
        base = self.zendesk_ticket_url or f"https://{self.zendesk_subdomain}.zendesk.com/agent/tickets/"
        return f"{base.rstrip('/')}/{ticket_id}"

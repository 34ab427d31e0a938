"""reporter settings, from THREADLINE_REPORTER_* variables (Kafka from KAFKA_*).

`ReporterSettings` is the service's (and the report command's); `KibanaSettings` is all the
`kibana import` command needs, so that the chart's import Job runs without Elasticsearch or Kafka.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, FilePath, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from threadline_common.settings import ServiceSettings, reject_placeholder

# A bearer token anyone could guess is no credential: at least this long (a random hex 32 is 64).
MIN_API_TOKEN_LENGTH = 24


class ElasticsearchSettings(ServiceSettings):
    """Where the reporter's cluster is and which names it uses: the service's, and all that
    `threadline-ops doctor` reads to check the same cluster and templates (one definition, no drift)."""

    model_config = SettingsConfigDict(env_prefix="THREADLINE_REPORTER_", extra="ignore")

    elasticsearch_url: str = Field(description="http(s)://host:port of the cluster")
    elasticsearch_api_key: SecretStr | None = None
    # CA bundle (PEM) that signed the cluster's certificate, for https URLs with a private CA.
    elasticsearch_ca_certs: FilePath | None = None
    elasticsearch_timeout_seconds: float = 30.0
    # Every index, template and alias name starts with this (several deployments can share a cluster).
    index_prefix: str = "threadline-"

    @field_validator("elasticsearch_api_key")
    @classmethod
    def _no_placeholder_key(cls, value: SecretStr | None) -> SecretStr | None:
        return reject_placeholder(value, "a token")


class ReporterSettings(ElasticsearchSettings):
    model_config = SettingsConfigDict(env_prefix="THREADLINE_REPORTER_", extra="ignore")

    group_id: str = "threadline-reporter"
    # A bulk request goes out when this many records are waiting, or this long after the first one
    # (or at once when a backlog has been read to its end). Only a backlog fills a batch: 1,000
    # halves the per-flush costs of 500 (a request, a commit, a read-back search) while catching up;
    # 2,000 was no faster here.
    batch_size: int = Field(default=1000, gt=0)
    batch_seconds: float = Field(default=1.0, gt=0)
    # Pause after a failed flush doubles up to this cap; offsets stay uncommitted meanwhile.
    max_backoff_seconds: float = 30.0
    # Privacy: keep message text, redact e-mail addresses and numbers in it, or drop it.
    text_mode: Literal["keep", "redact", "drop"] = "keep"
    hash_emails: bool = True
    # Salt of the e-mail hash, so that hashes cannot be matched against a list of addresses.
    hash_salt: SecretStr | None = None
    # Event indices (monthly) older than this many months are deleted, and conversations opened before.
    retention_months: int | None = Field(default=None, gt=0)
    # Actors whose activity is Threadline's own doing (the Zendesk API user), never a response.
    bridge_actor_ids: Annotated[list[str], NoDecode] = Field(default_factory=list)

    channels_file: Path | None = None
    slack_bot_token: SecretStr | None = None
    # Several workspaces (README "Several workspaces"): the key ingest encrypts installations
    # with. Set: each channel's reports are posted with its workspace's bot token, read from
    # threadline.slack.installations (the single token above for a workspace without an install).
    slack_installations_key: SecretStr | None = None
    # A Slack-compatible API root (the sandbox); Slack's own when unset.
    slack_api_url: str | None = None
    # Reports: the daily one at this local time (each channel's timezone), the weekly one on this day too.
    daily_at: dt.time = dt.time(9, 0)
    weekly_on: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    reports_enabled: bool = True
    # How many of the oldest open conversations the daily report links to.
    oldest_open_listed: int = 5

    # Loopback unless told otherwise: the chart sets 0.0.0.0 (behind its NetworkPolicy).
    web_host: str = "127.0.0.1"
    web_port: int = 6068
    # The /reports API (everything but /healthz, /readyz and /metrics) answers only a request
    # with `Authorization: Bearer <api_token>`; with the API off those paths answer 401 to all.
    api_enabled: bool = True
    api_token: SecretStr | None = None

    @field_validator("slack_bot_token", "slack_installations_key")
    @classmethod
    def _no_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        return reject_placeholder(value, "a token")

    @field_validator("api_token")
    @classmethod
    def _real_api_token(cls, value: SecretStr | None) -> SecretStr | None:
        value = reject_placeholder(value, "the reports API token")
        if value is not None and len(value.get_secret_value().strip()) < MIN_API_TOKEN_LENGTH:
            raise ValueError(
                f"the reports API token is shorter than {MIN_API_TOKEN_LENGTH} characters; "
                "use a random one, e.g. `openssl rand -hex 32`"
            )
        return value

    @model_validator(mode="after")
    def _token_when_api_on(self) -> ReporterSettings:
        if self.api_enabled and self.api_token is None:
            raise ValueError(
                "THREADLINE_REPORTER_API_TOKEN is required while the reports API is on "
                "(set it, e.g. from `openssl rand -hex 32`, or THREADLINE_REPORTER_API_ENABLED=false)"
            )
        return self

    @field_validator("bridge_actor_ids", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value


class KibanaSettings(ServiceSettings):
    """`python -m threadline_reporter kibana import`: where Kibana is and how to log in."""

    model_config = SettingsConfigDict(env_prefix="THREADLINE_REPORTER_", extra="ignore")

    kibana_url: str = Field(description="Kibana's base URL, e.g. https://kibana:5601 (with its basePath, if any)")
    # An API key (base64 of id:key, as Elasticsearch returns it as `encoded`); else the cluster's key below.
    kibana_api_key: SecretStr | None = None
    kibana_username: str | None = None
    kibana_password: SecretStr | None = None
    # The Kibana space to import into; empty: the default space.
    kibana_space: str = ""
    # CA bundle of Kibana's certificate; else the cluster's, when they share one.
    kibana_ca_certs: FilePath | None = None
    kibana_timeout_seconds: float = Field(default=30.0, gt=0)
    # How long to keep trying while Kibana is not up yet (the Job runs right after an install).
    kibana_wait_seconds: float = Field(default=120.0, ge=0)
    elasticsearch_api_key: SecretStr | None = None
    elasticsearch_ca_certs: FilePath | None = None
    # The saved objects point at this prefix's aliases (as the service's INDEX_PREFIX).
    index_prefix: str = "threadline-"

    @field_validator("kibana_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("kibana_api_key", "kibana_password", "elasticsearch_api_key")
    @classmethod
    def _no_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        return reject_placeholder(value, "a credential")


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """THREADLINE_REPORTER_* variables that no setting reads: a typo there would be ignored silently."""
    prefix = "THREADLINE_REPORTER_"
    known = {f"{prefix}{name.upper()}" for name in (*ReporterSettings.model_fields, *KibanaSettings.model_fields)}
    return sorted(name for name in environ if name.startswith(prefix) and name not in known)

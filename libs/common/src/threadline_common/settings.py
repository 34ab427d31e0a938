"""Settings shared by every service: one pydantic-settings object per service, built from these.

Required values have no default; `load_settings` turns a validation error into one clear
message that names every missing or wrong environment variable, and rejects placeholder
secrets at start instead of failing later against Slack or Zendesk.
"""

from __future__ import annotations

import sys
from typing import Any, Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset(
    {"changeme", "change-me", "change_me", "replaceme", "replace-me", "placeholder", "secret", "xxx", "todo"}
)


def reject_placeholder(value: SecretStr | None, name: str) -> SecretStr | None:
    """A secret that is empty or an obvious placeholder is a deployment mistake: fail at start."""
    if value is None:
        return None
    raw = value.get_secret_value().strip()
    if not raw or raw.lower() in PLACEHOLDER_SECRETS or (raw.startswith("<") and raw.endswith(">")):
        raise ValueError(f"{name} is a placeholder or empty; set the real secret")
    return value


class KafkaSettings(BaseSettings):
    """How to reach Kafka. Read from KAFKA_* variables."""

    model_config = SettingsConfigDict(env_prefix="KAFKA_", extra="ignore")

    bootstrap_servers: str = Field(description="host:port[,host:port...]")
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_ca_location: str | None = None
    ssl_certificate_location: str | None = None
    ssl_key_location: str | None = None
    client_id: str = "threadline"
    # Prefix for every topic name: lets several deployments (and test runs) share one cluster.
    topic_prefix: str = ""

    @field_validator("sasl_password")
    @classmethod
    def _no_placeholder(cls, v: SecretStr | None) -> SecretStr | None:
        return reject_placeholder(v, "KAFKA_SASL_PASSWORD")


class ServiceSettings(BaseSettings):
    """Base of every service's settings object."""

    model_config = SettingsConfigDict(env_prefix="THREADLINE_", extra="ignore")

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"


S = TypeVar("S", bound=BaseSettings)


class SettingsError(SystemExit):
    """Raised (as a SystemExit with code 2) when the environment does not make valid settings."""


def describe_validation_error(cls: type[BaseSettings], exc: ValidationError) -> str:
    prefix = str(cls.model_config.get("env_prefix", ""))
    lines = [f"invalid configuration for {cls.__name__}:"]
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        env = (prefix + "_".join(loc)).upper() if loc else "(settings)"
        if err["type"] == "missing":
            lines.append(f"  - {env} is required but not set")
        else:
            lines.append(f"  - {env}: {err['msg']}")
    return "\n".join(lines)


def load_settings(cls: type[S], **overrides: Any) -> S:
    """Build settings from the environment or exit with a message naming what is wrong."""
    try:
        return cls(**overrides)
    except ValidationError as exc:
        message = describe_validation_error(cls, exc)
        print(message, file=sys.stderr)
        raise SettingsError(2) from exc


def load_kafka_settings(**overrides: Any) -> KafkaSettings:
    return load_settings(KafkaSettings, **overrides)

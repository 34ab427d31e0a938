"""What every threadline-ops command works with: settings, Kafka and output, built only when a command asks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TextIO

from threadline_common.channels import ChannelsConfig, load_channels
from threadline_common.contracts import Topics
from threadline_common.settings import KafkaSettings, load_kafka_settings, load_settings
from threadline_router.ops.kafka_io import KafkaIO, OpsError
from threadline_router.ops.settings import OpsSettings

SOURCE_HEADER = "threadline-source"  # the router's header naming where an inbound record came from


class UsageError(Exception):
    """A wrong argument found after parsing (exit code 2); `argument` names it."""

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(f"argument {argument}: {message}")


@dataclass
class Env:
    """What a subcommand works with; built lazily so that each asks only for what it uses."""

    out: TextIO
    err: TextIO
    _kafka: KafkaSettings | None = None
    _ops: OpsSettings | None = None
    _io: KafkaIO | None = None

    @property
    def kafka(self) -> KafkaSettings:
        if self._kafka is None:
            self._kafka = load_kafka_settings()
        return self._kafka

    @property
    def ops(self) -> OpsSettings:
        if self._ops is None:
            self._ops = load_settings(OpsSettings)
        return self._ops

    @property
    def topics(self) -> Topics:
        return Topics(self.kafka.topic_prefix)

    @property
    def io(self) -> KafkaIO:
        if self._io is None:
            self._io = KafkaIO(self.kafka, self.ops.kafka_timeout_seconds)
        return self._io

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)


def _channels(env: Env) -> ChannelsConfig | None:
    path = env.ops.channels_file
    if path is None:
        return None
    try:
        return load_channels(path)
    except Exception as exc:  # the router would refuse to start on it too: say why
        raise OpsError(f"cannot read the channel file {path}: {exc}") from exc


def check_channel(env: Env, channel: str, argument: str) -> None:
    """Refuse a channel the router's channel file does not serve (when the file is set)."""
    channels = _channels(env)
    if channels is not None and channels.rules_for(channel) is None:
        raise UsageError(argument, f"{channel} is not a support channel in {env.ops.channels_file}")


def installations_source(env: Env) -> tuple[KafkaSettings | None, str | None]:
    """Where the Slack installations of several workspaces are read (Kafka, topic), when configured."""
    if env.ops.slack_installations_key is None:
        return None, None
    return env.kafka, env.topics.slack_installations

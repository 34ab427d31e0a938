"""Create the contract topics that are missing: `python -m threadline_common.topics`.

The one topic admin of the project: the Helm chart's pre-install/pre-upgrade Job runs this
module (any service image has it), and the local stack, the test fixtures and the benchmarks
call `ensure_topics` and `delete_topics`. The topics come from `schemas/topics/*.yaml`
(THREADLINE_SCHEMAS_DIR in the images), the connection from KAFKA_* (TLS/SASL included), the
names get KAFKA_TOPIC_PREFIX. Existing topics are left as they are: a topic whose partition
count differs from its contract is reported, never changed, since the router's co-partitioned
topics must be repartitioned on purpose or not at all.

Exit codes: 0 every topic exists, 1 Kafka refused a topic or did not answer in time, 2 bad
settings or arguments.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from threadline_common.contracts import TopicSpec, load_topics
from threadline_common.kafka import admin_config
from threadline_common.logs import configure_logging
from threadline_common.settings import KafkaSettings, load_kafka_settings

log = logging.getLogger(__name__)


class TopicSetupError(RuntimeError):
    pass


@dataclass(frozen=True)
class WantedTopic:
    name: str
    partitions: int
    replication_factor: int
    config: dict[str, str]


@dataclass
class Plan:
    create: list[WantedTopic] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    # name -> (partitions on the cluster, partitions wanted: the contract's unless overridden)
    partition_mismatch: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        """Every contract topic's name, created now or there before."""
        return [*self.present, *(t.name for t in self.create)]

    def summary(self) -> str:
        text = f"topics: {len(self.create)} created, {len(self.present)} already there"
        if self.partition_mismatch:
            text += f", {len(self.partition_mismatch)} with other partitions than their contract (left unchanged)"
        return text


def plan(
    specs: Iterable[TopicSpec],
    existing: Mapping[str, int],
    prefix: str = "",
    replication_factor: int | None = None,
    extra_config: Mapping[str, str] | None = None,
    partitions: int | None = None,
) -> Plan:
    """Which topics to create, given the cluster's topics (name -> partition count).
    `partitions` replaces every contract's count (tests and benchmarks use fewer)."""
    result = Plan()
    for spec in specs:
        name = prefix + spec.name
        wanted = partitions or spec.partitions
        if name in existing:
            result.present.append(name)
            if existing[name] != wanted:
                result.partition_mismatch[name] = (existing[name], wanted)
            continue
        result.create.append(
            WantedTopic(
                name=name,
                partitions=wanted,
                replication_factor=replication_factor or spec.replication_factor,
                # The contract's own settings (cleanup.policy, retention) win over deployment-wide ones.
                config={**(extra_config or {}), **spec.config},
            )
        )
    return result


def _existing(admin: Any, timeout: float) -> dict[str, int]:
    metadata = admin.list_topics(timeout=timeout)
    return {name: len(t.partitions) for name, t in metadata.topics.items()}


def _connect(settings: KafkaSettings, wait_seconds: float) -> tuple[Any, dict[str, int]]:
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    # librdkafka's own log would repeat each refused connection while we wait; the outcome is logged here.
    admin = AdminClient(admin_config(settings, log_level=2))
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return admin, _existing(admin, timeout=max(1.0, min(10.0, deadline - time.monotonic())))
        except KafkaException as exc:
            if time.monotonic() >= deadline:
                raise TopicSetupError(
                    f"Kafka at {settings.bootstrap_servers} did not answer within {wait_seconds:.0f}s: {exc}"
                ) from exc
            log.info("waiting for Kafka at %s: %s", settings.bootstrap_servers, exc)
            time.sleep(2)


def ensure_topics(
    settings: KafkaSettings,
    replication_factor: int | None = None,
    extra_config: Mapping[str, str] | None = None,
    wait_seconds: float = 120.0,
    partitions: int | None = None,
) -> Plan:
    """Create every contract topic that is missing and wait until the broker serves it; returns
    what was found and what was done (idempotent: a second run creates nothing)."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import NewTopic

    admin, existing = _connect(settings, wait_seconds)
    todo = plan(load_topics(), existing, settings.topic_prefix, replication_factor, extra_config, partitions)
    for name, (have, want) in todo.partition_mismatch.items():
        log.warning("topic %s has %d partitions, its contract says %d: left unchanged", name, have, want)
    if not todo.create:
        log.info("all %d topics exist", len(todo.present))
        return todo
    futures = admin.create_topics(
        [
            NewTopic(t.name, num_partitions=t.partitions, replication_factor=t.replication_factor, config=t.config)
            for t in todo.create
        ],
        operation_timeout=30,
    )
    failures = []
    for name, future in futures.items():
        try:
            future.result()
            log.info("created topic %s", name)
        except KafkaException as exc:
            if exc.args[0].name() == "TOPIC_ALREADY_EXISTS":  # another job got there first
                continue
            failures.append(f"{name}: {exc.args[0].str()}")
    if failures:
        raise TopicSetupError("cannot create topics: " + "; ".join(failures))
    # create_topics returns when the controller has them; wait until the broker serves them.
    deadline = time.monotonic() + 30
    while not {t.name for t in todo.create} <= set(_existing(admin, timeout=10)):
        if time.monotonic() > deadline:
            raise TopicSetupError("topics were created but are not in the broker's metadata after 30s")
        time.sleep(0.2)
    return todo


def delete_topics(settings: KafkaSettings, names: Sequence[str], timeout: float = 60.0) -> None:
    """Delete these topics (a test's or a benchmark's own); those already gone are no error."""
    from confluent_kafka.admin import AdminClient

    if not names:
        return
    admin = AdminClient(admin_config(settings))
    for future in admin.delete_topics(list(names), operation_timeout=timeout).values():
        with contextlib.suppress(Exception):  # already gone
            future.result()


def _config_pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    return key.strip(), value.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m threadline_common.topics", description="Create the missing contract topics (KAFKA_* settings)."
    )
    parser.add_argument("--replication-factor", type=int, default=None, help="instead of the contracts' value")
    parser.add_argument(
        "--config", type=_config_pair, action="append", default=[], help="topic config for every new topic, key=value"
    )
    parser.add_argument("--wait-seconds", type=float, default=120.0, help="how long to wait for Kafka to answer")
    args = parser.parse_args(argv)
    if args.replication_factor is not None and args.replication_factor < 1:
        parser.error("--replication-factor must be at least 1")
    configure_logging("topics")
    settings = load_kafka_settings()
    try:
        done = ensure_topics(settings, args.replication_factor, dict(args.config), args.wait_seconds)
    except TopicSetupError as exc:
        log.error("%s", exc)
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(done.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Dead letters: a record that cannot be handled goes, as the raw bytes it arrived with, to
`<topic>.dlq` with the reason in headers, and the stream goes on.

`dead_letter` is pure (what to send); `DeadLetterProducer` sends with confluent-kafka. Faust
services send the same `DeadLetter` through their own producer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Producer

HEADER_PREFIX = "threadline-dlq-"


class PoisonMessage(Exception):
    """A record that can never be processed (undecodable, invalid against its schema, ...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class DeadLetter:
    topic: str
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, str | bytes | None]]


def dead_letter(
    *,
    source_topic: str,
    partition: int | None,
    offset: int | None,
    key: bytes | None,
    value: bytes | None,
    reason: str,
    error: BaseException | None = None,
    original_headers: list[tuple[str, str | bytes | None]] | None = None,
    service: str = "",
    now: float | None = None,
) -> DeadLetter:
    headers: list[tuple[str, str | bytes | None]] = list(original_headers or [])
    headers += [
        (f"{HEADER_PREFIX}reason", reason.encode()[:1000]),
        (f"{HEADER_PREFIX}error-type", type(error).__name__.encode() if error else b""),
        (f"{HEADER_PREFIX}source-topic", source_topic.encode()),
        (f"{HEADER_PREFIX}source-partition", str(partition if partition is not None else "").encode()),
        (f"{HEADER_PREFIX}source-offset", str(offset if offset is not None else "").encode()),
        (f"{HEADER_PREFIX}service", service.encode()),
        (f"{HEADER_PREFIX}failed-at", str(int((now or time.time()) * 1000)).encode()),
    ]
    return DeadLetter(topic=f"{source_topic}.dlq", key=key, value=value, headers=headers)


def dlq_reason(headers: list[tuple[str, str | bytes | None]] | None) -> dict[str, str]:
    """The threadline-dlq-* headers of a dead letter, decoded, without the prefix."""
    return {
        k[len(HEADER_PREFIX) :]: v.decode(errors="replace") if isinstance(v, bytes) else v
        for k, v in headers or []
        if k.startswith(HEADER_PREFIX) and v is not None
    }


class DeadLetterProducer:
    """Sends dead letters synchronously: the caller commits its offset only after this returns."""

    def __init__(self, config: dict[str, Any]) -> None:
        self._producer = Producer(config)

    def send(self, letter: DeadLetter, timeout: float = 10.0) -> None:
        errors: list[Any] = []
        self._producer.produce(
            letter.topic,
            key=letter.key,
            value=letter.value,
            headers=letter.headers,
            on_delivery=lambda err, _msg: errors.append(err) if err else None,
        )
        remaining = self._producer.flush(timeout)
        if remaining or errors:
            raise RuntimeError(f"dead letter to {letter.topic} not acknowledged: {errors or 'timeout'}")

"""Publishing with an acknowledgement the HTTP handler can wait for.

One idempotent producer (acks=all) per process; a thread serves its delivery callbacks and
resolves the asyncio future of each record, so a request waits for its own record only.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient

log = logging.getLogger(__name__)


class PublishError(Exception):
    """Kafka did not acknowledge the record in time: the caller answers 503."""


class Publisher:
    def __init__(self, producer_config: dict[str, Any], admin_config: dict[str, Any]) -> None:
        # murmur2 like the Java and aiokafka clients: every producer puts a key on one partition.
        self._producer = Producer({"partitioner": "murmur2_random", **producer_config})
        self._admin = AdminClient(admin_config)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="kafka-delivery", daemon=True)
        self._thread.start()
        self._ready_at = 0.0

    def _poll(self) -> None:
        while not self._stop.is_set():
            self._producer.poll(0.05)

    async def publish(
        self, topic: str, key: str | None, value: bytes, headers: list[tuple[str, str | bytes | None]], wait: float
    ) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()

        def delivered(err: Any, _msg: Any) -> None:
            def settle() -> None:
                if future.done():
                    return
                if err is not None:
                    future.set_exception(PublishError(str(err)))
                else:
                    future.set_result(None)

            loop.call_soon_threadsafe(settle)

        try:
            self._producer.produce(
                topic, key=key.encode() if key else None, value=value, headers=headers, on_delivery=delivered
            )
        except (BufferError, KafkaException) as exc:
            raise PublishError(str(exc)) from exc
        try:
            await asyncio.wait_for(asyncio.shield(future), wait)
        except TimeoutError as exc:
            raise PublishError(f"no acknowledgement within {wait}s") from exc

    def ready(self, timeout: float = 1.0) -> bool:
        """Kafka answers a metadata request (cached for 5 s: probes are frequent)."""
        if time.monotonic() - self._ready_at < 5:
            return True
        try:
            self._admin.list_topics(timeout=timeout)
        except KafkaException:
            return False
        self._ready_at = time.monotonic()
        return True

    def close(self, timeout: float = 30.0) -> int:
        """Deliver what is queued, then stop. Returns the records still undelivered."""
        remaining = self._producer.flush(timeout)
        self._stop.set()
        self._thread.join(2)
        if remaining:
            log.error("%d records undelivered at shutdown", remaining)
        return int(remaining)

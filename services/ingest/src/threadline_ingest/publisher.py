"""Publishing with an acknowledgement a request handler can wait for.

One idempotent producer (acks=all) per process. A thread serves its delivery callbacks and
resolves the asyncio future of each record (call_soon_threadsafe), so a request waits for its
own record only and many requests share the producer's batches: no flush per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer

from threadline_common.health import Heartbeat

log = logging.getLogger(__name__)

Headers = list[tuple[str, str | bytes | None]]


class PublishError(Exception):
    """Kafka did not acknowledge the record (in time): the caller answers 503."""


class Publisher:
    READY_CACHE_SECONDS = 5.0

    def __init__(self, producer_config: dict[str, Any], heartbeat: Heartbeat | None = None) -> None:
        self._producer = Producer(
            {
                # murmur2 like the Java and aiokafka clients: every producer puts a key on one partition.
                "partitioner": "murmur2_random",
                "logger": logging.getLogger("threadline_ingest.librdkafka"),
                "error_cb": self._on_error,
                **producer_config,
            }
        )
        self.heartbeat = heartbeat or Heartbeat(max_age_seconds=30.0)
        self._stop = threading.Event()
        self._ready_until = 0.0
        self._thread = threading.Thread(target=self._serve_callbacks, name="kafka-delivery", daemon=True)
        self._thread.start()

    @staticmethod
    def _on_error(error: KafkaError) -> None:
        log.warning("Kafka client error: %s", error)

    def _serve_callbacks(self) -> None:
        while not self._stop.is_set():
            self._producer.poll(0.05)
            self.heartbeat.beat()

    def submit(self, topic: str, key: str | None, value: bytes, headers: Headers) -> asyncio.Future[float]:
        """Hand one record to the producer. The future gets the produce-to-ack latency in seconds,
        or PublishError; it settles even after its caller stopped waiting."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[float] = loop.create_future()
        started = time.perf_counter()

        def delivered(err: KafkaError | None, _msg: Any) -> None:
            latency = time.perf_counter() - started

            def settle() -> None:
                if future.done():
                    return
                if err is not None:
                    future.set_exception(PublishError(str(err)))
                else:
                    future.set_result(latency)

            # RuntimeError: the event loop is gone (shutdown); nobody is waiting for this answer.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(settle)

        try:
            self._producer.produce(
                topic, key=key.encode() if key else None, value=value, headers=headers, on_delivery=delivered
            )
        except BufferError as exc:
            raise PublishError("the producer's queue is full") from exc
        except KafkaException as exc:
            raise PublishError(str(exc)) from exc
        return future

    @staticmethod
    async def wait(future: asyncio.Future[float], seconds: float) -> float:
        """Wait at most `seconds` for the acknowledgement; the record stays queued afterwards."""
        try:
            return await asyncio.wait_for(asyncio.shield(future), seconds)
        except TimeoutError as exc:
            raise PublishError(f"no acknowledgement within {seconds}s") from exc

    def ready(self, topics: list[str], timeout: float = 2.0) -> bool:
        """Kafka answers a metadata request and has our topics (a success is cached: probes are frequent)."""
        if time.monotonic() < self._ready_until:
            return True
        try:
            metadata = self._producer.list_topics(timeout=timeout)
        except KafkaException:
            return False
        missing = [t for t in topics if t not in metadata.topics or metadata.topics[t].error is not None]
        if missing:
            log.warning("Kafka answers but lacks topics %s", missing)
            return False
        self._ready_until = time.monotonic() + self.READY_CACHE_SECONDS
        return True

    def close(self, timeout: float = 20.0) -> int:
        """Deliver what is queued (within timeout), then stop. Returns the records left undelivered."""
        self._stop.set()
        self._thread.join()
        remaining = int(self._producer.flush(timeout))
        if remaining:
            log.error("%d records undelivered at shutdown", remaining)
        return remaining

"""Publishing with an acknowledgement a request handler can wait for.

One idempotent producer (acks=all) per process. A thread serves its delivery callbacks and
resolves the asyncio future of each record, so a request waits for its own record only and many
requests share the producer's batches: no flush per request. What one poll delivered crosses to
the event loop in one call_soon_threadsafe (one wake-up of the loop for a produce request's
worth of records, not one each).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import defaultdict
from functools import partial
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer

from threadline_common.health import Heartbeat

log = logging.getLogger(__name__)

Headers = list[tuple[str, str | bytes | None]]
# A record's outcome on its way to the event loop: its future, the error or None, the latency.
Delivered = tuple[asyncio.Future[float], KafkaError | None, float]


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
        # Filled by the delivery callbacks (in whichever thread polls), emptied after each poll.
        self._delivered: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[float], KafkaError | None, float]] = []
        self._thread = threading.Thread(target=self._serve_callbacks, name="kafka-delivery", daemon=True)
        self._thread.start()

    @staticmethod
    def _on_error(error: KafkaError) -> None:
        log.warning("Kafka client error: %s", error)

    def _serve_callbacks(self) -> None:
        while not self._stop.is_set():
            self._producer.poll(0.05)
            self._hand_over()
            self.heartbeat.beat()

    def _on_delivery(
        self,
        loop: asyncio.AbstractEventLoop,
        future: asyncio.Future[float],
        started: float,
        err: KafkaError | None,
        _msg: Any,
    ) -> None:
        self._delivered.append((loop, future, err, time.perf_counter() - started))

    def _hand_over(self) -> None:
        """What the last poll delivered, to the event loop(s) of the requests waiting for it."""
        if not self._delivered:
            return
        delivered, self._delivered = self._delivered, []
        by_loop: dict[asyncio.AbstractEventLoop, list[Delivered]] = defaultdict(list)
        for loop, future, err, latency in delivered:
            by_loop[loop].append((future, err, latency))
        for loop, batch in by_loop.items():
            # RuntimeError: the event loop is gone (shutdown); nobody is waiting for these answers.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, batch)

    def submit(self, topic: str, key: str | None, value: bytes, headers: Headers) -> asyncio.Future[float]:
        """Hand one record to the producer. The future gets the produce-to-ack latency in seconds,
        or PublishError; it settles even after its caller stopped waiting."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[float] = loop.create_future()
        delivered = partial(self._on_delivery, loop, future, time.perf_counter())
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
        """Wait at most `seconds` for the acknowledgement; the record stays queued afterwards.

        What asyncio.wait_for(asyncio.shield(future)) does, without the two futures and the task
        they add per request: a waiter woken by the record's future or by a timer, whichever is
        first; the record's future is never cancelled."""
        if not future.done():
            loop = asyncio.get_running_loop()
            waiter: asyncio.Future[None] = loop.create_future()
            wake = partial(_wake, waiter)
            future.add_done_callback(wake)
            timer = loop.call_later(seconds, wake, None)
            try:
                await waiter
            finally:
                timer.cancel()
                future.remove_done_callback(wake)
            if not future.done():
                raise PublishError(f"no acknowledgement within {seconds}s")
        return future.result()

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
        self._hand_over()  # what flush delivered: its requests may still be waiting
        if remaining:
            log.error("%d records undelivered at shutdown", remaining)
        return remaining


def _settle(batch: list[Delivered]) -> None:
    """On the event loop: each record's future gets its latency or its PublishError."""
    for future, err, latency in batch:
        if future.done():
            continue
        if err is not None:
            future.set_exception(PublishError(str(err)))
        else:
            future.set_result(latency)


def _wake(waiter: asyncio.Future[None], _: object) -> None:
    if not waiter.done():
        waiter.set_result(None)

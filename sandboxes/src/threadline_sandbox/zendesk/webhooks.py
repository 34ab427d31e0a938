"""Delivers event webhooks as Zendesk does: signed POSTs, retried on failure.

One worker thread sends the events in the order they happened, so the events of a ticket arrive
in order. A target that answers 409, 429 or 5xx, or does not answer in time, gets the same
invocation again after a short backoff, up to `webhook_max_retries` times (Zendesk retries a few
times too). Every attempt is recorded in `deliveries` for tests to inspect.
"""

from __future__ import annotations

import json
import logging
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx

from threadline_sandbox.zendesk.events import signature

log = logging.getLogger(__name__)


class DeliveryKnobs(Protocol):
    webhook_timeout_seconds: float
    webhook_max_retries: int
    webhook_retry_base_seconds: float


@dataclass(frozen=True)
class Target:
    """Where one event goes: a URL, the secret that signs it, the id in X-Zendesk-Webhook-Id,
    and the headers the webhook's authentication and custom headers add."""

    url: str
    secret: str
    webhook_id: str
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Delivery:
    event_id: str
    type: str
    ticket_id: str | None
    url: str
    attempt: int  # 1 for the first try
    invocation_id: str
    status: int | None  # None: no answer (timeout, refused)
    error: str | None
    headers: dict[str, str]
    body: dict[str, Any]
    webhook_id: str = ""  # X-Zendesk-Webhook-Id it was sent with
    at: float = 0.0  # when the attempt completed (time.time())

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def worth_retrying(status: int | None) -> bool:
    return status is None or status in (409, 429) or status >= 500


def retry_delay(attempt: int, base: float, retry_after: str | None) -> float:
    """Backoff before attempt `attempt + 1`; a short Retry-After is honoured."""
    if retry_after is not None and retry_after.isdigit() and int(retry_after) <= 60:
        return max(float(retry_after), base)
    return float(base * 2 ** (attempt - 1))


class WebhookDispatcher:
    def __init__(
        self, targets: Callable[[dict[str, Any]], list[Target]], account_id: int, knobs: DeliveryKnobs
    ) -> None:
        """`targets` says, when an event is sent, where it goes (each target with its own secret)."""
        self._targets = targets
        self.account_id, self.knobs = account_id, knobs
        self.deliveries: list[Delivery] = []
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._pending = 0
        self._idle = threading.Condition()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="zendesk-webhooks", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout)

    def submit(self, body: dict[str, Any]) -> None:
        with self._idle:
            self._pending += 1
        self._queue.put(body)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once every submitted event is delivered or given up on."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def _run(self) -> None:
        with httpx.Client() as client:
            while True:
                body = self._queue.get()
                if body is None:
                    return
                try:
                    for target in [] if self._stopping.is_set() else self._targets(body):
                        self._deliver(client, target, body)
                except Exception:  # the worker must outlive any one bad delivery
                    log.exception("webhook delivery failed")
                finally:
                    with self._idle:
                        self._pending -= 1
                        self._idle.notify_all()

    def _deliver(self, client: httpx.Client, target: Target, body: dict[str, Any]) -> None:
        url = target.url
        raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        invocation_id = str(random.randrange(10**9, 10**10))
        ticket_id = (body.get("detail") or {}).get("id")
        for attempt in range(1, self.knobs.webhook_max_retries + 2):
            timestamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            headers = {
                **dict(target.headers),
                "content-type": "application/json; charset=utf-8",
                "user-agent": "Zendesk Webhook",
                "x-zendesk-account-id": str(self.account_id),
                "x-zendesk-webhook-id": target.webhook_id,
                "x-zendesk-webhook-invocation-id": invocation_id,
                "x-zendesk-webhook-signature": signature(target.secret, timestamp, raw),
                "x-zendesk-webhook-signature-timestamp": timestamp,
            }
            status, error, retry_after = None, None, None
            try:
                response = client.post(url, content=raw, headers=headers, timeout=self.knobs.webhook_timeout_seconds)
                status, retry_after = response.status_code, response.headers.get("retry-after")
            except httpx.HTTPError as exc:
                error = type(exc).__name__
            self.deliveries.append(
                Delivery(
                    body["id"],
                    body["type"],
                    ticket_id,
                    url,
                    attempt,
                    invocation_id,
                    status,
                    error,
                    headers,
                    body,
                    target.webhook_id,
                    time.time(),
                )
            )
            log.info("webhook %s (ticket %s) to %s, attempt %d: %s", body["type"], ticket_id, url, attempt, status)
            if not worth_retrying(status) or self._stopping.is_set():
                return
            if attempt <= self.knobs.webhook_max_retries:
                self._stopping.wait(retry_delay(attempt, self.knobs.webhook_retry_base_seconds, retry_after))

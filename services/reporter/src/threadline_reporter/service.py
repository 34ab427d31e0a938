"""The reporter process: the indexer and the report scheduler in threads, built from settings."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import msgspec
from elasticsearch import ApiError, Elasticsearch, TransportError
from elasticsearch.serializer import JsonSerializer, NdjsonSerializer
from slack_sdk import WebClient

from threadline_common import crash
from threadline_common.business_hours import Calendar
from threadline_common.channels import ChannelsConfig, load_channels
from threadline_common.contracts import Topics
from threadline_common.dlq import DeadLetterProducer
from threadline_common.health import Heartbeat
from threadline_common.installations import token_resolver
from threadline_common.kafka import consumer_config, producer_config
from threadline_common.settings import KafkaSettings
from threadline_reporter.documents import Privacy
from threadline_reporter.indexer import Indexer
from threadline_reporter.indices import Names, apply_retention, ensure_indices
from threadline_reporter.metrics import Metrics
from threadline_reporter.posting import Reporter
from threadline_reporter.schedule import due_reports
from threadline_reporter.settings import ElasticsearchSettings, ReporterSettings
from threadline_reporter.slack_clients import SlackClients

log = logging.getLogger(__name__)
SCHEDULER_INTERVAL_SECONDS = 20.0
RETENTION_INTERVAL_SECONDS = 3600.0


class DeadLetters(DeadLetterProducer):
    """The dead-letter producer, closed with the service: a producer left open keeps connecting
    (and logging) after its broker is gone."""

    def close(self, timeout: float = 10.0) -> None:
        self._producer.flush(timeout)
        self._producer.close()


class _MsgspecJson:
    """JSON through msgspec (already the project's codec for topic records): the client's own
    json.dumps costs ~35 us a document, more than building the document; msgspec ~2 us. Anything
    msgspec cannot encode goes to the client's serializer as before (its `default` hooks). The
    client has an orjson serializer too, but orjson is not among our dependencies."""

    def json_dumps(self, data: Any) -> bytes:
        try:
            return msgspec.json.encode(data)
        except (TypeError, msgspec.EncodeError):
            return super().json_dumps(data)  # type: ignore[misc]

    def json_loads(self, data: bytes) -> Any:
        return msgspec.json.decode(data)


class FastJsonSerializer(_MsgspecJson, JsonSerializer):
    pass


class FastNdjsonSerializer(_MsgspecJson, NdjsonSerializer):
    pass


def elasticsearch_client(settings: ElasticsearchSettings) -> Elasticsearch:
    api_key = settings.elasticsearch_api_key.get_secret_value() if settings.elasticsearch_api_key else None
    tls: dict[str, Any] = {}
    if settings.elasticsearch_ca_certs is not None:
        tls["ca_certs"] = str(settings.elasticsearch_ca_certs)
    return Elasticsearch(
        settings.elasticsearch_url,
        api_key=api_key,
        request_timeout=settings.elasticsearch_timeout_seconds,
        serializers={
            FastJsonSerializer.mimetype: FastJsonSerializer(),
            FastNdjsonSerializer.mimetype: FastNdjsonSerializer(),
        },
        **tls,
    )


def slack_client(settings: ReporterSettings) -> WebClient | None:
    if settings.slack_bot_token is None:
        return None
    return WebClient(
        token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url or WebClient.BASE_URL
    )


def slack_clients(settings: ReporterSettings, kafka: KafkaSettings | None) -> SlackClients | None:
    """Slack by workspace: the single token's client alone, or with several workspaces every
    install's too (the installations topic read into memory: Kafka is needed then)."""
    single = slack_client(settings)
    if settings.slack_installations_key is None:
        return SlackClients.single(single) if single is not None else None
    if kafka is None:
        raise RuntimeError("THREADLINE_REPORTER_SLACK_INSTALLATIONS_KEY is set: Kafka settings are needed to read them")
    tokens = token_resolver(
        settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None,
        settings.slack_installations_key.get_secret_value(),
        kafka,
        Topics(kafka.topic_prefix).slack_installations,
        client_id=f"{settings.group_id}.slack",
        slack_api_url=settings.slack_api_url,
    )
    return SlackClients(tokens, settings.slack_api_url)


def privacy_of(settings: ReporterSettings) -> Privacy:
    salt = settings.hash_salt.get_secret_value().encode() if settings.hash_salt else b""
    return Privacy(text_mode=settings.text_mode, hash_emails=settings.hash_emails, salt=salt)


def build_reporter(settings: ReporterSettings, kafka: KafkaSettings | None = None) -> Reporter:
    """What the report command needs: Elasticsearch, the channels and Slack (Kafka only to read
    the installations of several workspaces)."""
    return Reporter(
        elasticsearch_client(settings),
        Names(settings.index_prefix),
        load_channels(settings.channels_file) if settings.channels_file else ChannelsConfig(),
        slack_clients(settings, kafka),
        bridge_actor_ids=frozenset(settings.bridge_actor_ids),
        oldest_listed=settings.oldest_open_listed,
        text_kept=settings.text_mode != "drop",  # redact keeps the words, less emails and numbers
    )


class Service:
    def __init__(self, settings: ReporterSettings, kafka: KafkaSettings) -> None:
        self.settings = settings
        self.reporter = build_reporter(settings, kafka)
        self.es, self.names, self.channels = self.reporter.es, self.reporter.names, self.reporter.channels
        self.metrics = Metrics()
        self.heartbeat = Heartbeat(max_age_seconds=max(60.0, settings.max_backoff_seconds * 2))
        self.stop = threading.Event()
        self.indices_ready = threading.Event()
        bridge = frozenset(settings.bridge_actor_ids)
        topics = Topics(kafka.topic_prefix)
        self.dead_letters = DeadLetters(producer_config(kafka))
        self._closed = False
        self.indexer = Indexer(
            consumer_config=consumer_config(kafka, settings.group_id),
            topic=topics.activity,
            es=self.es,
            names=self.names,
            privacy=privacy_of(settings),
            calendar_for=lambda channel: Calendar.of(self.channels.rules_for(channel)),
            dead_letters=self.dead_letters,
            metrics=self.metrics,
            heartbeat=self.heartbeat,
            bridge_actor_ids=bridge,
            batch_size=settings.batch_size,
            batch_seconds=settings.batch_seconds,
            max_backoff_seconds=settings.max_backoff_seconds,
        )
        self.threads: list[threading.Thread] = []
        self._done: set[str] = set()

    def start(self) -> Service:
        for name, target in (("indexer", self._run_indexer), ("scheduler", self._run_scheduler)):
            thread = threading.Thread(target=self._fatal(name, target), name=name, daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    @staticmethod
    def _fatal(name: str, target: Callable[[], None]) -> Callable[[], None]:
        """A thread that dies ends the process (exit 70) rather than leave the HTTP server answering
        while nothing is indexed or posted: Kubernetes and `make up`'s watchdog restart it."""

        def run() -> None:
            try:
                target()
            except Exception as exc:
                crash.exit_now(f"the reporter's {name} thread", exc)

        return run

    def close(self) -> None:
        """Stops the threads (the indexer flushes and commits what it holds), then closes the clients."""
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)
        if self._closed:
            return
        self._closed = True
        self.dead_letters.close()
        if self.reporter.slack is not None:
            self.reporter.slack.close()
        self.es.close()
        log.info("reporter stopped")

    def alive(self) -> bool:
        return self.heartbeat.alive() and all(t.is_alive() for t in self.threads)

    def ready(self) -> bool:
        try:
            return self.indices_ready.is_set() and bool(self.es.ping())
        except Exception:
            return False

    def _ensure_indices(self) -> None:
        """Elasticsearch may come up after us: wait for it instead of crashing."""
        delay = 0.5
        while not self.stop.is_set():
            self.heartbeat.beat()
            try:
                ensure_indices(self.es, self.names)
                self.indices_ready.set()
                return
            except (TransportError, ApiError) as exc:
                log.warning("Elasticsearch not ready (%s); retrying in %.1fs", exc, delay)
                self.stop.wait(delay)
                delay = min(self.settings.max_backoff_seconds, delay * 2)

    def _run_indexer(self) -> None:
        self._ensure_indices()
        if not self.stop.is_set():
            self.indexer.run(self.stop)

    def _run_scheduler(self) -> None:
        last_retention: float | None = None
        while not self.stop.is_set():
            if not self.indices_ready.is_set():
                self.stop.wait(1.0)
                continue
            now = dt.datetime.now(dt.UTC)
            months = self.settings.retention_months
            if months and (last_retention is None or time.monotonic() - last_retention >= RETENTION_INTERVAL_SECONDS):
                last_retention = time.monotonic()
                try:
                    apply_retention(self.es, self.names, now, months)
                except Exception:
                    log.exception("retention failed; trying again later")
            if self.settings.reports_enabled and self.reporter.slack is not None:
                self.post_due(now)
            self.stop.wait(SCHEDULER_INTERVAL_SECONDS)

    def post_due(self, now: dt.datetime) -> list[dict[str, Any]]:
        results = []
        for kind, channel, start in due_reports(now, self.channels, self.settings.daily_at, self.settings.weekly_on):
            key = f"{kind}:{channel}:{start}"
            if key in self._done:
                continue
            try:
                posted = self.reporter.post(kind, channel, start, now)
            except Exception:
                self.metrics.reports.labels(kind, "failed").inc()
                log.exception("the %s report of %s for %s failed; trying again later", kind, channel, start)
                continue
            self.metrics.reports.labels(kind, posted.status).inc()
            if posted.status != "in_progress":
                self._done.add(key)
            results.append({"report": key, "status": posted.status, "ts": posted.ts})
        return results

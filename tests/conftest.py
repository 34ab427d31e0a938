"""Shared fixtures: a real Kafka broker and a real Elasticsearch node for the whole session.

Where they come from, in order: KAFKA_BOOTSTRAP_SERVERS / ELASTICSEARCH_URL when set (a CI
service, a cluster of yours); else the local distributions from devstack/infra on free ports
in a temporary directory, started only when a test asks for them and stopped at the end.
(No Docker engine runs here, so testcontainers is not used.)

Each test gets its own topic prefix, consumer group and index prefix, and cleans up.
"""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from threadline_common.contracts import Topics


class _LazyNode:
    """Starts a node in a background thread on first use, so Kafka and ES boot in parallel."""

    def __init__(self, start):
        self._start = start
        self._thread: threading.Thread | None = None
        self._result = None
        self._error: BaseException | None = None

    def begin(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()

    def _run(self) -> None:
        try:
            self._result = self._start()
        except BaseException as exc:
            self._error = exc

    def get(self):
        self.begin()
        assert self._thread is not None
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._result


@pytest.fixture(scope="session")
def _infra(tmp_path_factory) -> Iterator[dict[str, _LazyNode]]:
    from threadline_devstack import infra

    base = tmp_path_factory.mktemp("infra")
    nodes: list = []

    def kafka():
        node = infra.KafkaNode("kafka-test", base / "kafka", port=infra.free_port(), controller_port=infra.free_port())
        nodes.append(node)
        return node.start()

    def elasticsearch():
        node = infra.ElasticsearchNode(
            "es-test", base / "elasticsearch", port=infra.free_port(), transport_port=infra.free_port()
        )
        nodes.append(node)
        return node.start()

    lazy = {"kafka": _LazyNode(kafka), "elasticsearch": _LazyNode(elasticsearch)}
    yield lazy
    for node in nodes:
        node.kill()  # throw-away data: no need for a graceful shutdown


@pytest.fixture(scope="session")
def kafka_node(_infra, request):
    """The local KafkaNode (None when KAFKA_BOOTSTRAP_SERVERS points elsewhere)."""
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        return None
    if "elasticsearch_url" in request.fixturenames or os.environ.get("THREADLINE_TEST_BOOT_BOTH"):
        _infra["elasticsearch"].begin()
    return _infra["kafka"].get()


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_node) -> str:
    return os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or kafka_node.bootstrap


@pytest.fixture(scope="session")
def elasticsearch_node(_infra):
    if os.environ.get("ELASTICSEARCH_URL"):
        return None
    return _infra["elasticsearch"].get()


@pytest.fixture(scope="session")
def elasticsearch_url(elasticsearch_node) -> str:
    return os.environ.get("ELASTICSEARCH_URL") or elasticsearch_node.url


@pytest.fixture
def topic_prefix() -> str:
    return f"t{uuid.uuid4().hex[:8]}."


@pytest.fixture
def topics(topic_prefix) -> Topics:
    return Topics(topic_prefix)


@contextlib.contextmanager
def _contract_topics(bootstrap: str, prefix: str) -> Iterator[Topics]:
    from threadline_common.settings import KafkaSettings
    from threadline_common.topics import delete_topics, ensure_topics

    settings = KafkaSettings(bootstrap_servers=bootstrap, topic_prefix=prefix)
    names = ensure_topics(settings, wait_seconds=30, partitions=2).names
    yield Topics(prefix)
    delete_topics(settings, names, timeout=30)


@pytest.fixture
def kafka_topics(kafka_bootstrap, topic_prefix) -> Iterator[Topics]:
    """Every contract topic under this test's prefix (2 partitions each), deleted afterwards."""
    with _contract_topics(kafka_bootstrap, topic_prefix) as topics:
        yield topics


@pytest.fixture(scope="module")
def module_kafka_topics(kafka_bootstrap) -> Iterator[Topics]:
    """The same for a module whose tests share one pipeline (see tests/pipeline/conftest.py)."""
    with _contract_topics(kafka_bootstrap, f"m{uuid.uuid4().hex[:8]}.") as topics:
        yield topics


@pytest.fixture
def unique_group() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def es_index_prefix(elasticsearch_url) -> Iterator[str]:
    """A unique index-name prefix; every index, template and alias under it is deleted afterwards."""
    import urllib.request

    prefix = f"t{uuid.uuid4().hex[:8]}-"
    yield prefix
    for path in (f"/_index_template/{prefix}*", f"/{prefix}*"):
        request = urllib.request.Request(f"{elasticsearch_url}{path}", method="DELETE")
        with contextlib.suppress(Exception):  # nothing matched
            urllib.request.urlopen(request, timeout=30).close()


@pytest.fixture(scope="session")
def real_payloads() -> Path:
    return Path(__file__).resolve().parent / "fixtures" / "real_payloads"

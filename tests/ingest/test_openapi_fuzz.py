"""Schemathesis against the served OpenAPI document, in-process, with the producer on the real
broker: no request, signed or not, gets a 5xx or an answer the document does not describe."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from ingest.support import SLACK_SECRET, ZENDESK_SECRET, make_settings
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from threadline_common.settings import KafkaSettings
from threadline_ingest.app import create_app
from threadline_ingest.verify import zendesk_signature

pytestmark = pytest.mark.integration


@pytest.fixture
def ingest_schema(kafka_bootstrap, kafka_topics) -> Iterator[schemathesis.BaseSchema]:
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=kafka_topics.prefix)
    app = create_app(make_settings(max_body_bytes=64 * 1024), kafka)
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    asgi.shutdown_lifespans()  # flush and close the producer before the topics go


class SignedAsSlackOrZendesk(requests.auth.AuthBase):
    """Signs the body exactly as sent, so fuzzed requests also get past the signature check."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        raw = body.encode() if isinstance(body, str) else body
        if request.path_url.startswith("/slack/"):
            ts = str(int(time.time()))
            mac = hmac.new(SLACK_SECRET.encode(), f"v0:{ts}:".encode() + raw, hashlib.sha256)
            signature = "v0=" + mac.hexdigest()  # slack_sdk's signer takes text only; fuzzed bodies are bytes
            request.headers.update({"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature})
        elif request.path_url.startswith("/zendesk/"):
            ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            request.headers.update(
                {
                    "X-Zendesk-Webhook-Signature-Timestamp": ts,
                    "X-Zendesk-Webhook-Signature": zendesk_signature(ZENDESK_SECRET, ts, raw),
                }
            )
        return request


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


# schemathesis' own pytest loader (schema.parametrize) does not run under pytest 9: the operations
# are listed here and each is driven through Hypothesis directly.
OPERATIONS = [
    ("/slack/events", "POST"),
    ("/slack/interactions", "POST"),
    ("/slack/commands", "POST"),
    ("/zendesk/webhook", "POST"),
    ("/healthz", "GET"),
    ("/readyz", "GET"),
    ("/metrics", "GET"),
]


def test_every_operation_is_fuzzed(ingest_schema):
    served = {(r.ok().path, r.ok().method.upper()) for r in ingest_schema.get_all_operations()}
    assert served == set(OPERATIONS)


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_no_request_gets_a_5xx_or_an_undocumented_answer(ingest_schema, path, method):
    operation = ingest_schema[path][method]
    signed = requests.Session()
    signed.auth = SignedAsSlackOrZendesk()

    @given(case=operation.as_strategy())
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def call(case: schemathesis.Case) -> None:
        case.call_and_validate(checks=CHECKS)
        case.call_and_validate(session=signed, checks=CHECKS)

    call()

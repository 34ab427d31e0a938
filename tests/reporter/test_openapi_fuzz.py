"""Schemathesis against the reporter's served OpenAPI document, in-process, with the service on
the real broker and node: an unauthenticated request is always a 401, an authenticated one never
a 5xx nor an answer the document does not describe."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

from threadline_reporter.app import create_app

from .conftest import API_TOKEN, wait_until

pytestmark = pytest.mark.integration
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance]
OPERATIONS = [
    ("/reports/{kind}", "GET"),
    ("/reports/{kind}/post", "POST"),
    ("/similar", "GET"),
    ("/healthz", "GET"),
    ("/readyz", "GET"),
    ("/metrics", "GET"),
]
OPEN = {"/healthz", "/readyz", "/metrics"}


@pytest.fixture
def reporter_schema(make_service) -> Iterator[schemathesis.BaseSchema]:
    service = make_service().start()
    wait_until("indices", service.indices_ready.is_set)
    app = create_app(service)
    # The document is behind the token too: without it, no schema.
    yield schemathesis.openapi.from_asgi("/openapi.json", app, headers=AUTH)


class Bearer(requests.auth.AuthBase):
    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.update(AUTH)
        return request


def test_every_operation_is_fuzzed(reporter_schema):
    served = {(r.ok().path, r.ok().method.upper()) for r in reporter_schema.get_all_operations()}
    assert served == set(OPERATIONS)


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_unauthenticated_is_401_and_authenticated_never_a_5xx(reporter_schema, path, method):
    operation = reporter_schema[path][method]
    authenticated = requests.Session()
    authenticated.auth = Bearer()

    @given(case=operation.as_strategy())
    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def call(case: schemathesis.Case) -> None:
        case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        anonymous = case.call()
        if path in OPEN:
            assert anonymous.status_code < 500, anonymous.text
        else:
            assert anonymous.status_code == 401, (case.formatted_path, anonymous.status_code, anonymous.text)
        case.call_and_validate(session=authenticated, checks=CHECKS)

    call()

"""Verification no route can forget: one dependency per source, attached to the source's router.

As in bolt-python's request verification middleware, the check is not a call in each handler:
`source_router(verified_slack)` makes a router every route of which runs the dependency first,
so a route added to it is verified by construction. The dependency checks the content type
(415, the one the route documents), reads the body under the size limit (413), verifies the
Slack or Zendesk credentials on the raw bytes (401), and hands the route the verified body. The
route takes it by declaring the same dependency (resolved once per request). Health, readiness
and metrics are on a router of their own, without it.

A source router's routes are `VerifiedRoute`s. One whose endpoint takes exactly the request and
the verified value (every webhook route ingest has) is also served directly (`direct()`, through
`DirectRoutes`, which app.IngestApp puts ahead of FastAPI's middleware): the same verifying
function, then the endpoint, with no dependency solving, no exit stacks, no included-router
matching and none of FastAPI's per-request layers. FastAPI's path for a request costs more
CPU than everything ingest does with it (the ingest bench's profile); the OpenAPI document, the
route objects and every answer stay FastAPI's. A route of another shape is served by FastAPI,
through its router's dependency, as before.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from threadline_ingest.answers import SSL_CHECK, Answered, CommandAck, Problem, json_or_400, problem_response
from threadline_ingest.bodies import BadRequest, parse_form, parse_json
from threadline_ingest.settings import IngestSettings
from threadline_ingest.state import metrics_of, settings_of
from threadline_ingest.verify import (
    SignatureError,
    verify_authorization,
    verify_legacy_token,
    verify_slack,
    verify_zendesk,
)
from threadline_ingest.zendesk import ZendeskKind, kind_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ZendeskDelivery:
    raw: bytes
    kind: ZendeskKind
    body: dict[str, Any]


def _declared(request: Request) -> dict[str, Any]:
    """The matched route's `openapi_extra` (answers.signed_body): its media type, its options."""
    return getattr(request.scope.get("route"), "openapi_extra", None) or {}


async def read_body(request: Request, settings: IngestSettings) -> bytes:
    """The body as bytes, of the media type the route declares and within the size limit. A
    route that declares none takes no request."""
    media_types = set(_declared(request).get("requestBody", {}).get("content", {}))
    given = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if given not in media_types:
        raise Problem(415, f"expected {' or '.join(sorted(media_types)) or 'no request'}")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.max_body_bytes:
        raise Problem(413, "body too large")
    # The declared length may lie, or be absent (chunked). ASGI's receive() directly, as
    # Request.stream() does, without its async generator.
    chunks, size = [], 0
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > settings.max_body_bytes:
            raise Problem(413, "body too large")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _slack_signature_error(settings: IngestSettings, request: Request, raw: bytes) -> SignatureError | None:
    if settings.slack_signing_secret is None:
        return SignatureError("Slack HTTP delivery is not configured (Socket Mode only)")
    try:
        verify_slack(
            settings.slack_signing_secret.get_secret_value(),
            request.headers.get("x-slack-request-timestamp"),
            request.headers.get("x-slack-signature"),
            raw,
            time.time(),
            settings.signature_max_age_seconds,
        )
    except SignatureError as exc:
        return exc
    return None


async def verified_slack(request: Request) -> bytes:
    """The raw body of a request Slack signed (the signing secret's v0 scheme)."""
    settings = settings_of(request)
    raw = await read_body(request, settings)
    error = _slack_signature_error(settings, request, raw)
    if error is None:
        return raw
    if _declared(request).get(SSL_CHECK):
        # Slack checks a command URL's certificate with an unsigned `ssl_check=1` post:
        # answer it, store nothing.
        with contextlib.suppress(BadRequest):
            if parse_form(raw).get("ssl_check") == "1":
                raise Answered(JSONResponse(CommandAck(text="ok").model_dump()))
    metrics_of(request).signature_failures.labels("slack").inc()
    log.warning("refused a Slack request on %s: %s", request.url.path, error)
    raise Problem(401, "invalid signature") from error


async def verified_zendesk(request: Request) -> ZendeskDelivery:
    """A Zendesk request, authenticated and parsed. Its signature (every Zendesk webhook has one),
    else an Authorization header (a target or webhook with basic/bearer auth), else the legacy
    token inside the body: the first that is configured decides, and a credential presented must
    be right."""
    settings = settings_of(request)
    raw = await read_body(request, settings)
    signature = request.headers.get("x-zendesk-webhook-signature")
    authorization = request.headers.get("authorization")
    basic = None
    if settings.zendesk_basic_auth_username and settings.zendesk_basic_auth_password:
        basic = (settings.zendesk_basic_auth_username, settings.zendesk_basic_auth_password.get_secret_value())
    bearer = settings.zendesk_bearer_token.get_secret_value() if settings.zendesk_bearer_token else None
    try:
        if signature is not None and settings.zendesk_webhook_secret is not None:
            verify_zendesk(
                settings.zendesk_webhook_secret.get_secret_value(),
                request.headers.get("x-zendesk-webhook-signature-timestamp"),
                signature,
                raw,
                time.time(),
                settings.signature_max_age_seconds,
            )
            body = json_or_400(raw)
            return ZendeskDelivery(raw, kind_of(body), body)
        if authorization is not None and (basic or bearer):
            verify_authorization(authorization, basic=basic, bearer=bearer)
            return ZendeskDelivery(raw, "legacy_trigger", json_or_400(raw))
        if settings.zendesk_legacy_token is None:
            raise SignatureError("no Zendesk credentials")
        try:
            body = parse_json(raw)
        except BadRequest as exc:
            # The token is inside the body: unreadable means unauthenticated.
            raise SignatureError("legacy body is not JSON, so it carries no token") from exc
        verify_legacy_token(settings.zendesk_legacy_token.get_secret_value(), body)
        return ZendeskDelivery(raw, "legacy_trigger", body)
    except SignatureError as exc:
        metrics_of(request).signature_failures.labels("zendesk").inc()
        log.warning("refused a Zendesk request: %s", exc)
        raise Problem(401, "invalid credentials") from exc


# Every verifying dependency: a route of a source router runs one of them before anything else.
VERIFIERS: tuple[Callable[..., Any], ...] = (verified_slack, verified_zendesk)


class VerifiedRoute(APIRoute):
    """A route of a source router: FastAPI's, plus a direct way in for an endpoint of the shape
    `(request, <the verifying dependency's value>)`."""

    def direct(self) -> ASGIApp | None:
        """An ASGI app serving this route as FastAPI would, or None if its endpoint takes anything
        else (path or query parameters, other dependencies, a body FastAPI parses)."""
        verify = self._verifier()
        if verify is None:
            return None
        endpoint: Callable[[Request, Any], Awaitable[Response]] = self.endpoint
        route = self

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            scope["route"] = route  # as FastAPI's routing sets it: read_body and Instrumented read it
            request = Request(scope, receive, send)
            try:
                response = await endpoint(request, await verify(request))
            except Problem as exc:
                response = problem_response(exc)
            except Answered as exc:
                response = exc.response
            await response(scope, receive, send)

        return app

    def _verifier(self) -> Callable[[Request], Awaitable[Any]] | None:
        dependant = self.dependant
        parameters = list(inspect.signature(self.endpoint).parameters)
        calls = {d.call for d in dependant.dependencies}
        named = [d.name for d in dependant.dependencies if d.name]
        if (
            len(calls) != 1
            or len(parameters) != 2
            or dependant.request_param_name != parameters[0]
            or named != parameters[1:]
            or dependant.path_params
            or dependant.query_params
            or dependant.header_params
            or dependant.cookie_params
            or dependant.body_params
            or not inspect.iscoroutinefunction(self.endpoint)
        ):
            return None
        [verify] = calls
        return verify if verify in VERIFIERS else None


def source_router(verify: Callable[..., Any], **options: Any) -> APIRouter:
    """A router whose every route runs `verify` first: the dependency is the router's own."""
    if verify not in VERIFIERS:
        raise ValueError(f"{verify!r} is not one of the verifying dependencies")
    return APIRouter(dependencies=[Depends(verify)], route_class=VerifiedRoute, **options)


class DirectRoutes:
    """ASGI: a request for a route with a direct way in (VerifiedRoute.direct) goes straight to it;
    everything else to FastAPI. Ahead of FastAPI's middleware and exception handlers (app.IngestApp),
    so the direct app answers Problem and Answered itself; each is counted (Instrumented) on its way."""

    def __init__(self, app: ASGIApp, routes: dict[tuple[str, str], ASGIApp]) -> None:
        self.app, self.routes = app, routes  # (method, path) -> app, filled by create_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        direct = None
        if scope["type"] == "http" and not scope.get("root_path"):
            direct = self.routes.get((scope["method"], scope["path"]))
        if direct is None or scope["app"].dependency_overrides:
            await self.app(scope, receive, send)
        else:
            await direct(scope, receive, send)


def direct_routes(routes: list[Any]) -> dict[tuple[str, str], ASGIApp]:
    """(method, path) -> the direct app of every VerifiedRoute that has one, from an app's routes."""
    table: dict[tuple[str, str], ASGIApp] = {}
    for context in iter_route_contexts(routes):
        route = context.original_route
        # Included under another prefix, the route's own path is not the one served: FastAPI serves it.
        if not isinstance(route, VerifiedRoute) or context.path != route.path:
            continue
        direct = route.direct()
        if direct is not None:
            for method in context.methods or ():
                table[method, route.path] = direct
    return table

"""What ingest answers, and how its OpenAPI document says so.

Every answer but a 200 is a Problem with a short reason that names no secret and no body
content: 400 malformed (but authenticated), 401 credentials, 413 too large, 415 content type,
503 Kafka did not take it in time (with Retry-After: Slack and Zendesk deliver it again).
Request bodies are documented as raw bytes, because they are verified before they are parsed.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Literal

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from threadline_ingest.bodies import BadRequest, parse_form, parse_json
from threadline_ingest.publisher import PublishError

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
# An operation's OpenAPI extension: an unsigned Slack `ssl_check=1` form is answered, not refused.
SSL_CHECK = "x-slack-ssl-check"


class Problem(Exception):
    """An answer other than 200, with a short reason that names no secret and no body content."""

    def __init__(self, status: int, error: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(error)
        self.status, self.error, self.headers = status, error, headers or {}


class Answered(Exception):
    """A request answered before its route runs (Slack's unsigned ssl_check), with this response."""

    def __init__(self, response: Response) -> None:
        super().__init__("answered")
        self.response = response


def problem_response(exc: Problem) -> Response:
    return JSONResponse(ErrorBody(error=exc.error).model_dump(), exc.status, exc.headers)


async def problem_answer(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return problem_response(exc)


async def early_answer(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, Answered)
    return exc.response


# --- documented bodies ---------------------------------------------------------------------


class ErrorBody(BaseModel):
    ok: Literal[False] = False
    error: str


class Ack(BaseModel):
    ok: Literal[True] = True


class Challenge(BaseModel):
    challenge: str


# The answer of nearly every request, encoded once: the bytes JSONResponse(Ack().model_dump()) writes.
ACK_BODY = b'{"ok":true}'
# One response object for all of them: a Response only sends its status, headers and body, and
# making one (its header list) cost more than the signature check in the ingest bench's profile.
_ACK = Response(ACK_BODY, media_type=JSON)


def ack() -> Response:
    """The 200 answer (shared: not to be changed by its caller)."""
    return _ACK


# The one line a slash command from a workspace Threadline does not serve gets (nothing else answers it).
UNSERVED = "Threadline does not serve this workspace."


class CommandAck(BaseModel):
    """The body of a slash command's acknowledgement when it has one (an unserved workspace)."""

    response_type: Literal["ephemeral"] = "ephemeral"
    text: str


class Alive(BaseModel):
    alive: bool


class Ready(BaseModel):
    ready: bool
    checks: dict[str, bool]


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("Authenticated but malformed (not JSON, not a form, fields missing)"),
    401: _error("Missing, stale or wrong signature or credentials"),
    413: _error("Body over the size limit"),
    415: _error("Wrong Content-Type"),
    503: {
        **_error("Kafka did not acknowledge in time (or ingest is starting or stopping); deliver again"),
        "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
    },
}


def header(name: str, description: str, required: bool = False, type_: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "header", "required": required, "description": description, "schema": {"type": type_}}


SLACK_HEADERS = [
    header("X-Slack-Request-Timestamp", "Unix time of the request; at most 5 minutes old", required=True),
    header("X-Slack-Signature", "v0= + hex HMAC-SHA256 of `v0:{timestamp}:{raw body}` (signing secret)", True),
]


def signed_body(
    media_type: str, description: str, headers: list[dict[str, Any]], *, ssl_check: bool = False
) -> dict[str, Any]:
    """A route's `openapi_extra`: its body as raw bytes of one media type. The verifying
    dependency reads the media type from here, so what is documented is what is enforced."""
    extra: dict[str, Any] = {
        "parameters": headers,
        "requestBody": {
            "required": True,
            "description": description,
            "content": {media_type: {"schema": {"type": "string", "format": "binary"}}},
        },
    }
    if ssl_check:
        extra[SSL_CHECK] = True
    return extra


# --- from a verified body to an answer --------------------------------------------------------


def json_or_400(raw: bytes) -> dict[str, Any]:
    try:
        return parse_json(raw)
    except BadRequest as exc:
        raise Problem(400, str(exc)) from exc


def form_or_400(raw: bytes) -> dict[str, str]:
    try:
        return parse_form(raw)
    except BadRequest as exc:
        raise Problem(400, str(exc)) from exc


async def stored(call: Awaitable[str]) -> str:
    """Run one publish; BadRequest is 400 and a missing acknowledgement 503."""
    try:
        outcome = await call
    except BadRequest as exc:
        raise Problem(400, str(exc)) from exc
    except PublishError as exc:
        raise Problem(503, "not stored; deliver again", {"Retry-After": "1"}) from exc
    return outcome

"""Slack's Events API request URL: `url_verification` answered with its challenge, `event_callback`
published, any other envelope counted and dropped. Verified by the router (verification.py)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.responses import JSONResponse

from threadline_ingest.answers import (
    ERRORS,
    JSON,
    SLACK_HEADERS,
    Ack,
    Challenge,
    Problem,
    ack,
    header,
    json_or_400,
    signed_body,
    stored,
)
from threadline_ingest.slack import retry_number
from threadline_ingest.state import ingest_of, metrics_of
from threadline_ingest.verification import source_router, verified_slack

log = logging.getLogger(__name__)

router = source_router(verified_slack, prefix="/slack")


@router.post(
    "/events",
    summary="Slack Events API request URL",
    openapi_extra=signed_body(
        JSON,
        "A Slack Events API request (url_verification or event_callback), signed",
        [
            *SLACK_HEADERS,
            header("X-Slack-Retry-Num", "Set on Slack's retries: 1, 2, 3", type_="integer"),
            header("X-Slack-Retry-Reason", "Why Slack retries, e.g. http_timeout"),
        ],
    ),
    response_model=Challenge | Ack,
    responses={200: {"description": "url_verification: the challenge; otherwise stored (or dropped)"}, **ERRORS},
)
async def slack_events(request: Request, raw: Annotated[bytes, Depends(verified_slack)]) -> Response:
    body = json_or_400(raw)
    envelope_type = body.get("type")
    if envelope_type == "url_verification":
        challenge = body.get("challenge")
        if not isinstance(challenge, str):
            raise Problem(400, "url_verification without a challenge")
        return JSONResponse(Challenge(challenge=challenge).model_dump())
    if envelope_type != "event_callback":
        # Nothing to store. app_rate_limited means Slack stops sending events for a while.
        metrics_of(request).dropped.labels("type").inc()
        if envelope_type == "app_rate_limited":
            log.warning("Slack rate-limits this app's events (app_rate_limited)")
        return ack()
    await stored(
        ingest_of(request).slack(
            "event_callback",
            body,
            raw,
            "http",
            retry_number(request.headers.get("x-slack-retry-num")),
            request.headers.get("x-slack-retry-reason"),
        )
    )
    return ack()

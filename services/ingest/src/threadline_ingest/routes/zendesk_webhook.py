"""Zendesk's webhook endpoint: event webhooks and the bodies of triggers and automations.
Authenticated by the router (verification.py: signature, Authorization header or legacy token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response

from threadline_ingest.answers import ERRORS, JSON, Ack, ack, header, signed_body, stored
from threadline_ingest.state import ingest_of
from threadline_ingest.verification import ZendeskDelivery, source_router, verified_zendesk

router = source_router(verified_zendesk, prefix="/zendesk")


@router.post(
    "/webhook",
    summary="Zendesk webhook endpoint (event webhooks, trigger and automation webhooks)",
    openapi_extra=signed_body(
        JSON,
        "A Zendesk webhook body. Authenticated by its signature headers, or an Authorization "
        "header (basic/bearer, when configured), or a legacy `token` field in the JSON.",
        [
            header("X-Zendesk-Webhook-Signature", "base64 HMAC-SHA256 of timestamp + raw body"),
            header("X-Zendesk-Webhook-Signature-Timestamp", "RFC 3339; at most 5 minutes old"),
            header("X-Zendesk-Webhook-Id", "The webhook's id"),
            header("X-Zendesk-Webhook-Invocation-Id", "One trigger firing; the same on Zendesk's retries of it"),
            header("Authorization", "Basic or Bearer, when the webhook is set up with them"),
        ],
    ),
    response_model=Ack,
    responses={200: {"description": "Stored"}, **ERRORS},
)
async def zendesk_webhook(
    request: Request, delivery: Annotated[ZendeskDelivery, Depends(verified_zendesk)]
) -> Response:
    await stored(
        ingest_of(request).zendesk(
            delivery.kind,
            delivery.body,
            delivery.raw,
            request.headers.get("x-zendesk-webhook-id"),
            request.headers.get("x-zendesk-webhook-invocation-id"),
        )
    )
    return ack()

"""Socket Mode: the same events without a public endpoint, acknowledged after Kafka has them."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from threadline_ingest.settings import IngestSettings

log = logging.getLogger(__name__)

Handler = Callable[[str, dict[str, Any], int | None, str | None], Awaitable[None]]
KINDS = {"events_api": "event_callback", "interactive": "interaction", "slash_commands": "slash_command"}


def socket_listener(
    handle: Handler,
) -> Callable[[AsyncBaseSocketModeClient, SocketModeRequest], Awaitable[None]]:
    async def listener(client: AsyncBaseSocketModeClient, request: SocketModeRequest) -> None:
        kind = KINDS.get(request.type)
        if kind is None:
            return
        try:
            await handle(kind, request.payload, request.retry_attempt, request.retry_reason)
        except Exception:
            # No ack: Slack redelivers the envelope, as it retries a 503 over HTTP.
            log.exception("could not store a Socket Mode %s", request.type)
            return
        await client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))

    return listener


async def start_socket_mode(settings: IngestSettings, handle: Handler, api_url: str | None = None) -> SocketModeClient:
    assert settings.slack_app_token is not None
    web = AsyncWebClient(base_url=api_url) if api_url else AsyncWebClient()
    client = SocketModeClient(app_token=settings.slack_app_token.get_secret_value(), web_client=web)
    client.socket_mode_request_listeners.append(socket_listener(handle))
    await client.connect()
    return client

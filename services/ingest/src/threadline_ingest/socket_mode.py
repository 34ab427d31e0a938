"""Socket Mode: the same Slack requests without a public endpoint (an app-level xapp- token).

Envelopes go through the same checks, filters and records as HTTP (source "socket_mode") and
are acknowledged only once Kafka has the record: an envelope left unacknowledged is delivered
again by Slack, as a 503 is retried over HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from threadline_common import ticket_form
from threadline_ingest.bodies import BadRequest
from threadline_ingest.publisher import PublishError
from threadline_ingest.service import Ingest
from threadline_ingest.settings import IngestSettings
from threadline_ingest.slack import Kind, retry_number

log = logging.getLogger(__name__)

KINDS: dict[str, Kind] = {
    "events_api": "event_callback",
    "interactive": "interaction",
    "slash_commands": "slash_command",
}


def command_fields(payload: dict[str, Any]) -> dict[str, str]:
    """A slash command's fields as strings, as the HTTP form carries them."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in payload.items()}


async def handle_envelope(ingest: Ingest, request: SocketModeRequest) -> dict[str, Any] | None:
    """Store one envelope. Returns the acknowledgement's payload ({} for none), or None when the
    envelope must not be acknowledged (Kafka did not take it: Slack will deliver it again)."""
    kind = KINDS.get(request.type)
    payload = request.payload if isinstance(request.payload, dict) else {}
    if kind is None or (kind == "event_callback" and payload.get("type") != "event_callback"):
        ingest.metrics.dropped.labels("type").inc()
        return {}
    if kind == "interaction":
        refused = ticket_form.submission_answer(payload)
        if refused is not None:
            return refused  # a modal field in error: the modal stays open, nothing is stored
    body = command_fields(payload) if kind == "slash_command" else payload
    retry = retry_number(str(request.retry_attempt)) if request.retry_attempt is not None else None
    try:
        outcome = await ingest.slack(kind, body, None, "socket_mode", retry, request.retry_reason or None)
    except BadRequest as exc:
        # It will never become valid: acknowledge it so that Slack stops sending it.
        ingest.metrics.dropped.labels("malformed").inc()
        log.warning("dropped a malformed Socket Mode %s envelope: %s", request.type, exc)
        return {}
    except PublishError as exc:
        log.warning("not acknowledging a Socket Mode %s envelope: %s", request.type, exc)
        return None
    if kind == "slash_command":
        text = "Got it." if not outcome.startswith("dropped") else "Threadline does not serve this workspace."
        return {"response_type": "ephemeral", "text": text}
    return {}


class SocketModeDoor:
    def __init__(self, settings: IngestSettings, ingest: Ingest) -> None:
        assert settings.slack_app_token is not None
        self.ingest = ingest
        self.client = SocketModeClient(
            app_token=settings.slack_app_token.get_secret_value(),
            web_client=AsyncWebClient(base_url=settings.slack_api_url),
        )
        self.client.socket_mode_request_listeners.append(self._on_request)
        self._connecting: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Connect in the background (the client retries until it can), so HTTP serves meanwhile."""
        self._connecting = asyncio.create_task(self.client.connect())

    async def connected(self) -> bool:
        return bool(await self.client.is_connected())

    async def close(self) -> None:
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connecting
        await self.client.close()

    async def _on_request(self, client: AsyncBaseSocketModeClient, request: SocketModeRequest) -> None:
        ack = await handle_envelope(self.ingest, request)
        if ack is None:
            return
        response = SocketModeResponse(envelope_id=request.envelope_id, payload=ack or None)
        try:
            await client.send_socket_mode_response(response)
        except Exception as exc:
            # The connection went away: Slack delivers the envelope again; the router deduplicates.
            log.warning("could not acknowledge a Socket Mode envelope: %s", exc)

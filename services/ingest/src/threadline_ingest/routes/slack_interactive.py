"""Slack's interactivity and slash command request URLs: what people do with Threadline's own UI.
Verified by the router (verification.py); a slash command URL also answers Slack's unsigned
`ssl_check`, and only that."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.responses import JSONResponse

from threadline_common import ticket_form
from threadline_ingest.answers import ERRORS, FORM, SLACK_HEADERS, CommandAck, Problem, form_or_400, signed_body, stored
from threadline_ingest.bodies import BadRequest, parse_form, parse_json
from threadline_ingest.state import ingest_of
from threadline_ingest.verification import source_router, verified_slack

router = source_router(verified_slack, prefix="/slack")


@router.post(
    "/interactions",
    summary="Slack interactivity request URL",
    openapi_extra=signed_body(FORM, "`payload=<JSON>` as Slack posts it, signed", SLACK_HEADERS),
    response_class=Response,
    responses={
        200: {
            "description": "Stored (empty body: Slack needs nothing more; a modal closes), or for a modal "
            'submission with a field in error, `{"response_action": "errors", "errors": {block_id: line}}` '
            "and nothing stored"
        },
        **ERRORS,
    },
)
async def slack_interactions(request: Request, raw: Annotated[bytes, Depends(verified_slack)]) -> Response:
    try:
        payload = parse_json(parse_form(raw).get("payload", "").encode())
    except BadRequest as exc:
        raise Problem(400, "payload is not a JSON object") from exc
    # A submitted modal is validated before anything is stored (Slack waits for this answer to
    # close it): a field in error keeps the modal open with the line under it, nothing is created.
    refused = ticket_form.submission_answer(payload)
    if refused is not None:
        return JSONResponse(refused)
    await stored(ingest_of(request).slack("interaction", payload, raw, "http"))
    return Response(status_code=200)


@router.post(
    "/commands",
    summary="Slack slash command request URL",
    openapi_extra=signed_body(
        FORM, "A slash command's form fields as Slack posts them, signed", SLACK_HEADERS, ssl_check=True
    ),
    response_model=CommandAck,
    responses={200: {"description": "Stored; an ephemeral note for the person who typed it"}, **ERRORS},
)
async def slack_commands(request: Request, raw: Annotated[bytes, Depends(verified_slack)]) -> Response:
    form = form_or_400(raw)
    outcome = await stored(ingest_of(request).slack("slash_command", form, raw, "http"))
    text = "Got it." if not outcome.startswith("dropped") else "Threadline does not serve this workspace."
    return JSONResponse(CommandAck(text=text).model_dump())

"""`/slack/install` and `/slack/oauth_redirect`: the OAuth v2 install of the app into another
workspace (or an Enterprise Grid organisation), served only when OAuth is configured.

No Slack signature here: a person's browser comes, not Slack. The redirect is trusted through
the signed state bound to that browser (oauth.py), and the code is worth something only with the
client secret. The installation is stored, encrypted, in threadline.slack.installations.
"""

from __future__ import annotations

import asyncio
import html
import logging

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth import AuthorizeUrlGenerator, OAuthStateUtils
from slack_sdk.web.async_client import AsyncWebClient

from threadline_ingest.oauth import SignedStateStore, StateRefused, installation_of
from threadline_ingest.state import ingest_of

log = logging.getLogger(__name__)
router = APIRouter(prefix="/slack")


def _page(status: int, title: str, text: str) -> HTMLResponse:
    return HTMLResponse(f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>", status_code=status)


@router.get("/install", summary="Start installing the app into a Slack workspace (redirects to Slack)")
async def install(request: Request) -> Response:
    oauth = ingest_of(request).oauth
    assert oauth is not None  # the router is included only with OAuth settings
    state = oauth.states.issue()
    response = RedirectResponse(oauth.authorize.generate(state), status_code=302)
    response.headers["set-cookie"] = oauth.cookies.build_set_cookie_for_new_state(state)
    return response


@router.get("/oauth_redirect", summary="Slack's redirect after an install: store the installation")
async def oauth_redirect(request: Request) -> Response:
    ingest = ingest_of(request)
    oauth = ingest.oauth
    assert oauth is not None
    query = request.query_params
    state = query.get("state", "")
    try:
        oauth.states.check(state)
        if not oauth.cookies.is_valid_browser(state, dict(request.headers)):
            raise StateRefused("the install was started in another browser")
    except StateRefused as exc:
        log.warning("Slack install refused: %s", exc)
        return _page(400, "Install refused", f"{exc}; start again at /slack/install.")
    if query.get("error"):
        return _page(200, "Install cancelled", f"Slack answered {query['error']}; nothing was installed.")
    settings = ingest.settings
    client = AsyncWebClient(base_url=settings.slack_api_url)
    try:
        answer = await client.oauth_v2_access(
            client_id=oauth.client_id,
            client_secret=oauth.client_secret,
            code=query.get("code", ""),
            redirect_uri=oauth.redirect_uri,
        )
    except SlackApiError as exc:
        error = exc.response.get("error")
        # One line that names the fix, never the secret.
        log.error(
            "Slack install failed: oauth.v2.access answered %s (check THREADLINE_INGEST_SLACK_CLIENT_%s)",
            error,
            "SECRET" if error == "bad_client_secret" else "ID and the redirect URI",
        )
        return _page(400, "Install failed", f"Slack refused the install: {error}.")
    installation = installation_of(dict(answer.data))  # type: ignore[arg-type]
    await asyncio.to_thread(oauth.store.save, installation)
    where = installation.team_name or installation.enterprise_name or installation.team_id or ""
    log.info("Slack install stored for team %s enterprise %s", installation.team_id, installation.enterprise_id)
    response = _page(200, "Threadline is installed", f"Threadline is installed in {where}.")
    response.headers["set-cookie"] = oauth.cookies.build_set_cookie_for_deletion()
    return response


class OAuthDoor:
    """What the OAuth routes share: built from the settings when OAuth is configured."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        scopes: list[str],
        user_scopes: list[str],
        authorize_url: str,
        state_seconds: int,
        store: object,
    ) -> None:
        self.client_id, self.client_secret, self.redirect_uri = client_id, client_secret, redirect_uri
        self.states = SignedStateStore(client_secret, state_seconds)
        self.cookies = OAuthStateUtils(expiration_seconds=state_seconds)
        self.authorize = AuthorizeUrlGenerator(
            client_id=client_id,
            scopes=scopes,
            user_scopes=user_scopes,
            redirect_uri=redirect_uri,
            authorization_url=authorize_url,
        )
        self.store = store  # a threadline_common.installations.KafkaInstallationStore

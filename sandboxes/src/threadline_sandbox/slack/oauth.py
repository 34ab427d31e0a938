"""Slack's OAuth v2 install flow, as Slack documents it ("Installing with OAuth", oauth.v2.access).

1. The app sends a person to `/oauth/v2/authorize?client_id&scope&user_scope&redirect_uri&state`
   (`team` optional, as in Slack: the workspace to install to). The page names the app and the
   scopes and has an approve form; a test approves an install for a given team with
   `SlackSandbox.approve_install(url, team_id, ...)`, which posts that form over HTTP.
2. Approving redirects to `redirect_uri?code=...&state=...` (denying: `?error=access_denied&state=...`).
   A redirect_uri must be one of the app's Redirect URLs when any are configured.
3. `oauth.v2.access` (client_id/client_secret by HTTP Basic or form, `code`, `redirect_uri`)
   answers the documented response (a bot token `xoxb-...`, `token_type` bot, `scope`,
   `bot_user_id`, `app_id`, `team`, `enterprise`, `authed_user`, `is_enterprise_install`) or
   one of its documented errors: `invalid_client_id`, `bad_client_secret`, `invalid_code`
   (unknown, used or expired: a code lasts ten minutes and is good once), `bad_redirect_uri`
   (not the URI of the authorize request, when that one had one), `invalid_grant_type`.

The issued bot token acts as the app's bot in that team: every other Web API method accepts it,
`auth.test` answers its team, messages it posts carry that team, and the events they cause come
with that team's `team_id` and `authorizations`. The sandbox keeps one set of channels (the
teams share them, as Slack Connect channels are shared); the seed team and its tokens are as before.
"""

from __future__ import annotations

import base64
import html
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from threadline_sandbox.slack.errors import SlackError

if TYPE_CHECKING:
    from threadline_sandbox.slack.server import SlackSandbox

CODE_TTL_SECONDS = 600.0  # Slack: "the code expires after ten minutes"


@dataclass(frozen=True)
class OAuthApp:
    """The app's credentials as Slack issues them (App Credentials), and its Redirect URLs."""

    client_id: str = "2141029472.691202649728"
    client_secret: str = "sandbox-client-secret"
    redirect_urls: tuple[str, ...] = ()  # empty: any redirect_uri is accepted


@dataclass
class Grant:
    client_id: str
    redirect_uri: str | None
    scope: str
    user_scope: str
    team: dict[str, Any] | None
    enterprise: dict[str, Any] | None
    is_enterprise_install: bool
    user: str
    expires: float


def _redirect_ok(app: OAuthApp, uri: str) -> bool:
    if not app.redirect_urls:
        return True
    # Slack: the redirect_uri must match (or be a sub-path of) one of the configured Redirect URLs.
    return any(uri == url or uri.startswith(url.rstrip("/") + "/") for url in app.redirect_urls)


async def authorize_page(s: SlackSandbox, request: Request) -> Response:
    q = dict(request.query_params)
    if q.get("client_id") != s.oauth_app.client_id:
        return HTMLResponse("<h1>Invalid client_id parameter</h1>", status_code=400)
    redirect_uri = q.get("redirect_uri", "")
    if redirect_uri and not _redirect_ok(s.oauth_app, redirect_uri):
        return HTMLResponse("<h1>redirect_uri did not match any configured URIs</h1>", status_code=400)
    if not redirect_uri and not s.oauth_app.redirect_urls:
        return HTMLResponse("<h1>No redirect_uri and no Redirect URL configured</h1>", status_code=400)
    hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in q.items())
    body = (
        f"<h1>{html.escape(s.ws.bot['name'])} is requesting permission to access a Slack workspace</h1>"
        f"<p>Bot scopes: {html.escape(q.get('scope', ''))}</p>"
        f"<p>User scopes: {html.escape(q.get('user_scope', ''))}</p>"
        f'<form method="post" action="/oauth/v2/authorize">{hidden}'
        '<input name="team_id"><input name="team_name"><input name="enterprise_id"><input name="enterprise_name">'
        '<button name="decision" value="allow">Allow</button><button name="decision" value="deny">Cancel</button>'
        "</form>"
    )
    return HTMLResponse(body)


async def authorize_decision(s: SlackSandbox, request: Request) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    if form.get("client_id") != s.oauth_app.client_id:
        return HTMLResponse("<h1>Invalid client_id parameter</h1>", status_code=400)
    redirect_uri = form.get("redirect_uri") or (s.oauth_app.redirect_urls[0] if s.oauth_app.redirect_urls else "")
    if not redirect_uri or not _redirect_ok(s.oauth_app, redirect_uri):
        return HTMLResponse("<h1>redirect_uri did not match any configured URIs</h1>", status_code=400)
    state = form.get("state", "")
    if form.get("decision") != "allow":
        return RedirectResponse(_with_query(redirect_uri, {"error": "access_denied", "state": state}), 302)
    team_id = form.get("team_id") or form.get("team") or s.ws.team_id
    enterprise_id = form.get("enterprise_id") or ""
    org_wide = form.get("is_enterprise_install") == "true"
    team = None if org_wide else {"id": team_id, "name": form.get("team_name") or team_id}
    enterprise = {"id": enterprise_id, "name": form.get("enterprise_name") or enterprise_id} if enterprise_id else None
    code = f"{int(time.time())}.{secrets.token_hex(6)}.{secrets.token_hex(24)}"
    with s._lock:
        s.oauth_grants[code] = Grant(
            client_id=form["client_id"],
            redirect_uri=form.get("redirect_uri") or None,
            scope=form.get("scope", ""),
            user_scope=form.get("user_scope", ""),
            team=team,
            enterprise=enterprise,
            is_enterprise_install=org_wide,
            user=form.get("user") or "U0ALICE",
            expires=time.monotonic() + CODE_TTL_SECONDS,
        )
    return RedirectResponse(_with_query(redirect_uri, {"code": code, "state": state}), 302)


def _with_query(url: str, params: dict[str, str]) -> str:
    return url + ("&" if urlsplit(url).query else "?") + urlencode(params)


def _client_credentials(request: Request, params: dict[str, Any]) -> tuple[str | None, str | None]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            client_id, _, client_secret = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return None, None
        return client_id, client_secret
    return params.get("client_id"), params.get("client_secret")


async def oauth_v2_access(s: SlackSandbox, request: Request) -> Response:
    try:
        params = await s._params(request)
        client_id, client_secret = _client_credentials(request, params)
        if client_id != s.oauth_app.client_id:
            raise SlackError("invalid_client_id")
        if client_secret != s.oauth_app.client_secret:
            raise SlackError("bad_client_secret")
        if params.get("grant_type", "authorization_code") != "authorization_code":
            raise SlackError("invalid_grant_type")
        with s._lock:
            grant = s.oauth_grants.pop(str(params.get("code", "")), None)
            if grant is None or grant.expires < time.monotonic() or grant.client_id != client_id:
                raise SlackError("invalid_code")
            if grant.redirect_uri is not None and params.get("redirect_uri") != grant.redirect_uri:
                raise SlackError("bad_redirect_uri")
            return JSONResponse({"ok": True, **_install(s, grant)})
    except SlackError as exc:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


def _install(s: SlackSandbox, grant: Grant) -> dict[str, Any]:
    """Issue the tokens of an approved install (under the sandbox's lock)."""
    team_key = grant.team["id"] if grant.team else (grant.enterprise or {}).get("id", s.ws.team_id)
    scopes = [x for x in grant.scope.split(",") if x]
    bot_token = f"xoxb-{team_key}-{uuid.uuid4().hex[:12]}"
    s.ws.tokens[bot_token] = s.bot_user_id
    s.ws.scopes[bot_token] = scopes
    s.ws.token_teams[bot_token] = team_key
    s.ws.teams[team_key] = {
        "id": team_key,
        "name": (grant.team or grant.enterprise or {}).get("name", team_key),
        "enterprise_id": (grant.enterprise or {}).get("id"),
        "is_enterprise_install": grant.is_enterprise_install,
    }
    authed_user: dict[str, Any] = {"id": grant.user}
    if grant.user_scope:
        user_token = f"xoxp-{team_key}-{uuid.uuid4().hex[:12]}"
        s.ws.tokens[user_token] = grant.user
        s.ws.scopes[user_token] = [x for x in grant.user_scope.split(",") if x]
        s.ws.token_teams[user_token] = team_key
        authed_user.update(scope=grant.user_scope, access_token=user_token, token_type="user")
    return {
        "access_token": bot_token,
        "token_type": "bot",
        "scope": ",".join(scopes),
        "bot_user_id": s.bot_user_id,
        "app_id": s.ws.app_id,
        "team": grant.team,
        "enterprise": grant.enterprise,
        "authed_user": authed_user,
        "is_enterprise_install": grant.is_enterprise_install,
    }


def approve(
    s: SlackSandbox,
    authorize_url: str,
    team_id: str,
    team_name: str | None = None,
    enterprise_id: str | None = None,
    user: str = "U0ALICE",
    allow: bool = True,
    org_wide: bool = False,
) -> str:
    """What a person's click on Allow (or Cancel) does: post the authorize page's form over HTTP
    and return where Slack redirects the browser (the app's redirect_uri with code and state).
    `org_wide`: an Enterprise Grid admin installs for the whole organisation `enterprise_id`."""
    import httpx  # the sandbox's own client, as a browser would post the form

    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
    form = {
        **query,
        "team_id": team_id,
        "team_name": team_name or team_id,
        "enterprise_id": enterprise_id or "",
        "user": user,
        "decision": "allow" if allow else "deny",
        "is_enterprise_install": "true" if org_wide else "false",
    }
    response = httpx.post(f"{s.base_url}/oauth/v2/authorize", data=form, follow_redirects=False)
    if response.status_code != 302:
        raise ValueError(f"the authorize page refused: {response.status_code} {response.text}")
    return str(response.headers["location"])

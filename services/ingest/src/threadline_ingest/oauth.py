"""Slack's OAuth v2 install flow, the pure parts: the signed state and the installation an
oauth.v2.access answer makes.

The state is slack_sdk's `OAuthStateStore` without storage: `<nonce>.<expiry>.<HMAC-SHA256>`
keyed by the app's client secret, so any ingest pod can check what another issued. It is also
bound to the browser that asked (slack_sdk's `OAuthStateUtils` cookie), as Bolt does. A state is
not single-use here (no shared storage); the code Slack sends with it is, at Slack.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from typing import Any

from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.state_store import OAuthStateStore

log = logging.getLogger(__name__)


class StateRefused(ValueError):
    """A state that is not ours, was changed, or is too old."""


class SignedStateStore(OAuthStateStore):
    def __init__(self, secret: str, expiration_seconds: int = 600) -> None:
        self._key = hashlib.sha256(b"threadline-oauth-state:" + secret.encode()).digest()
        self.expiration_seconds = expiration_seconds

    @property
    def logger(self) -> logging.Logger:
        return log

    def _mac(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()

    def issue(self, *args: Any, **kwargs: Any) -> str:
        payload = f"{secrets.token_urlsafe(16)}.{int(time.time()) + self.expiration_seconds}"
        return f"{payload}.{self._mac(payload)}"

    def check(self, state: str, now: float | None = None) -> None:
        """Raises StateRefused with the reason."""
        nonce, _, rest = state.partition(".")
        expiry, _, mac = rest.partition(".")
        if not (nonce and expiry.isdigit() and mac):
            raise StateRefused("the state is not one this app issued")
        if not hmac.compare_digest(mac, self._mac(f"{nonce}.{expiry}")):
            raise StateRefused("the state was changed or not issued by this app")
        if int(expiry) < (time.time() if now is None else now):
            raise StateRefused("the install link expired")

    def consume(self, state: str) -> bool:
        try:
            self.check(state)
        except StateRefused:
            return False
        return True


def installation_of(answer: dict[str, Any]) -> Installation:
    """slack_sdk's Installation from an oauth.v2.access answer (the fields Bolt keeps)."""
    team = answer.get("team") or {}
    enterprise = answer.get("enterprise") or {}
    user = answer.get("authed_user") or {}
    return Installation(
        app_id=answer.get("app_id"),
        enterprise_id=enterprise.get("id"),
        enterprise_name=enterprise.get("name"),
        team_id=team.get("id"),
        team_name=team.get("name"),
        bot_token=answer.get("access_token"),
        bot_id=answer.get("bot_id"),
        bot_user_id=answer.get("bot_user_id"),
        bot_scopes=answer.get("scope") or "",
        user_id=str(user.get("id", "")),
        user_token=user.get("access_token"),
        user_scopes=user.get("scope") or "",
        is_enterprise_install=bool(answer.get("is_enterprise_install")),
        token_type=answer.get("token_type"),
    )

"""An unmodified zenpy client pointed at a Zendesk sandbox.

zenpy builds `https://{subdomain}.zendesk.com/api/v2/...` unless ZENPY_FORCE_SCHEME and
ZENPY_FORCE_NETLOC are set; it reads them on every request, so they are process-wide: one
process talks to one sandbox at a time. zenpy is imported only when a client is made: the
sandbox server itself never needs it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from zenpy import Zenpy


class SandboxCredentials(Protocol):
    subdomain: str
    api_token: str
    oauth_token: str
    agent_token: str
    agent_oauth_token: str

    @property
    def api_email(self) -> str: ...

    @property
    def agent_email(self) -> str: ...

    def zenpy_env(self) -> dict[str, str]: ...


def zenpy_env(base_url: str) -> dict[str, str]:
    scheme, _, netloc = base_url.partition("://")
    return {"ZENPY_FORCE_SCHEME": scheme, "ZENPY_FORCE_NETLOC": netloc.rstrip("/")}


def zenpy_client(
    sandbox: SandboxCredentials,
    *,
    as_agent: bool = False,
    oauth: bool = False,
    set_env: bool = True,
    disable_cache: bool = True,
    **zenpy_options: Any,
) -> Zenpy:
    """A Zenpy client for the sandbox: as our integration's API user (default) or as the
    agent; with the API token (default) or the OAuth token. `set_env` points zenpy at the
    sandbox (os.environ); `disable_cache` makes every read ask the server, as a fresh process
    would. Other options (timeout, ratelimit_budget, proactive_ratelimit, ...) go to Zenpy."""
    from zenpy import Zenpy

    if set_env:
        os.environ.update(sandbox.zenpy_env())
    if oauth:
        token = sandbox.agent_oauth_token if as_agent else sandbox.oauth_token
        client = Zenpy(subdomain=sandbox.subdomain, oauth_token=token, **zenpy_options)
    else:
        email = sandbox.agent_email if as_agent else sandbox.api_email
        token = sandbox.agent_token if as_agent else sandbox.api_token
        client = Zenpy(subdomain=sandbox.subdomain, email=email, token=token, **zenpy_options)
    if disable_cache:
        client.disable_caching()
    return client

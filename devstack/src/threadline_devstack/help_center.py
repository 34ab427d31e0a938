"""The Help Center articles `make up` writes into the Zendesk sandbox, through Zendesk Guide's own
create endpoint (zenpy), so that `make demo`'s support questions (VPN access, a password reset)
get Help Center suggestions. Never run against a real Zendesk: `up` calls it for the sandbox only."""

from __future__ import annotations

from zenpy import Zenpy
from zenpy.lib.api_objects.help_centre_objects import Article

ARTICLES = (
    (
        "Connecting to the VPN from home",
        "<p>To reach internal sites from home, install the <b>VPN client</b> from the self-service portal, "
        "open it and sign in with your SSO account. If it says <i>authentication failed</i>, your VPN "
        "certificate may have expired: renew it in the portal, then reconnect.</p>",
    ),
    (
        "Resetting your password",
        "<p>Forgot your password, or it expired? Open the <a href='https://id.sandbox-corp.example/reset'>"
        "password reset page</a>, enter your work e-mail and follow the link we send. The new password "
        "works everywhere within five minutes, VPN included.</p>",
    ),
    (
        "Requesting remote access for a contractor",
        "<p>Contractors need a sponsor: the sponsor asks for remote access in the portal, naming the "
        "systems needed and an end date. VPN access follows within a working day.</p>",
    ),
)


def seed_articles(zen: Zenpy, section_id: int, locale: str = "en-us") -> list[int]:
    """Write the articles once (a title already there is kept); their ids."""
    present = {a.title: int(a.id) for a in zen.help_center.articles()}
    ids = []
    for title, body in ARTICLES:
        if title not in present:
            made = zen.help_center.articles.create(
                section=section_id, article=Article(title=title, body=body, locale=locale)
            )
            present[title] = int(made.id)
        ids.append(present[title])
    return ids

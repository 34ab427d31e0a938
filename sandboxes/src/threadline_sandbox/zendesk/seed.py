"""The account a Zendesk sandbox starts with, read from YAML (fixtures/zendesk_account.yaml)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_SEED = Path(__file__).resolve().parent.parent / "fixtures" / "zendesk_account.yaml"


@dataclass(frozen=True)
class Credentials:
    user_id: int
    api_token: str
    oauth_token: str


@dataclass(frozen=True)
class Seed:
    account_id: int
    subdomain: str
    name: str
    support_address: str
    api_tokens: tuple[str, ...]
    integration: Credentials
    agent: Credentials
    users: tuple[dict[str, Any], ...]
    groups: tuple[dict[str, Any], ...]
    brands: tuple[dict[str, Any], ...]
    ticket_forms: tuple[dict[str, Any], ...]
    # Custom ticket fields: {id, type, title, options: [{name, value}] for a tagger, active}.
    ticket_fields: tuple[dict[str, Any], ...] = ()
    custom_statuses: dict[str, int] = field(default_factory=dict)
    # Zendesk Guide: {locale, categories: [{id, name}], sections: [{id, name, category_id}]}.
    help_center: dict[str, Any] = field(default_factory=dict)
    webhook_id: str = "01HSANDBOXWEBHOOK000000000"

    def default_id(self, kind: str) -> int | None:
        items = {"groups": self.groups, "brands": self.brands, "ticket_forms": self.ticket_forms}[kind]
        chosen = next((i for i in items if i.get("default")), items[0] if items else None)
        return int(chosen["id"]) if chosen else None


def _credentials(raw: dict[str, Any]) -> Credentials:
    return Credentials(int(raw["user_id"]), str(raw["api_token"]), str(raw["oauth_token"]))


def load_seed(source: str | Path | dict[str, Any] | None = None) -> Seed:
    """A seed from a YAML file, an already parsed mapping, or the packaged default."""
    raw = source if isinstance(source, dict) else yaml.safe_load(Path(source or DEFAULT_SEED).read_text())
    integration, agent = _credentials(raw["integration"]), _credentials(raw["agent"])
    tokens = {*map(str, raw.get("api_tokens") or ()), integration.api_token, agent.api_token}
    seed = Seed(
        account_id=int(raw["account_id"]),
        subdomain=str(raw["subdomain"]),
        name=str(raw.get("name") or raw["subdomain"]),
        support_address=str(raw.get("support_address") or f"support@{raw['subdomain']}.zendesk.com"),
        api_tokens=tuple(sorted(tokens)),
        integration=integration,
        agent=agent,
        users=tuple(raw.get("users") or ()),
        groups=tuple(raw.get("groups") or ()),
        brands=tuple(raw.get("brands") or ()),
        ticket_forms=tuple(raw.get("ticket_forms") or ()),
        ticket_fields=tuple(raw.get("ticket_fields") or ()),
        custom_statuses={str(k): int(v) for k, v in (raw.get("custom_statuses") or {}).items()},
        webhook_id=str(raw.get("webhook_id") or "01HSANDBOXWEBHOOK000000000"),
        help_center=dict(raw.get("help_center") or {}),
    )
    known = {int(u["id"]) for u in seed.users}
    for role, creds in (("integration", integration), ("agent", agent)):
        if creds.user_id not in known:
            raise ValueError(f"seed: the {role} user {creds.user_id} is not among the users")
    return seed

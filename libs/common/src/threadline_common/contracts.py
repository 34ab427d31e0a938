"""The topic contracts in `schemas/topics/*.yaml`, loaded into typed objects.

`schemas/` is the single source of truth for topic names, keys, partitions and configs: the
infrastructure scripts create topics from it, the Helm chart's topic job reads it, and the
services take their topic names from it through `Topics`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml


class ContractError(ValueError):
    """A file in schemas/ is missing or malformed."""


@dataclass(frozen=True)
class SchemaVersion:
    version: int
    type: str
    compatibility_mode: str
    resource: str | None
    examples: tuple[str, ...]


@dataclass(frozen=True)
class TopicSpec:
    name: str
    description: str
    key: str
    partitions: int
    replication_factor: int
    config: dict[str, str] = field(default_factory=dict)
    producers: tuple[str, ...] = ()
    consumers: tuple[str, ...] = ()
    schemas: tuple[SchemaVersion, ...] = ()

    @property
    def latest(self) -> SchemaVersion:
        return max(self.schemas, key=lambda s: s.version)


def schemas_dir() -> Path:
    """`schemas/` of this checkout, or THREADLINE_SCHEMAS_DIR (containers copy it elsewhere)."""
    override = os.environ.get("THREADLINE_SCHEMAS_DIR")
    if override:
        return Path(override)
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "schemas" / "topics"
        if candidate.is_dir():
            return candidate.parent
    raise ContractError("schemas/ not found: set THREADLINE_SCHEMAS_DIR")


def _parse(path: Path) -> TopicSpec:
    try:
        raw = yaml.safe_load(path.read_text())
        return TopicSpec(
            name=str(raw["topic"]),
            description=str(raw.get("description", "")).strip(),
            key=str(raw["key"]),
            partitions=int(raw["partitions"]),
            replication_factor=int(raw.get("replication_factor", 1)),
            config={str(k): str(v) for k, v in (raw.get("config") or {}).items()},
            producers=tuple(raw.get("producers") or ()),
            consumers=tuple(raw.get("consumers") or ()),
            schemas=tuple(
                SchemaVersion(
                    version=int(s["version"]),
                    type=str(s["type"]),
                    compatibility_mode=str(s.get("compatibility_mode", "none")),
                    resource=s.get("resource"),
                    examples=tuple(s.get("examples") or ()),
                )
                for s in raw["schemas"]
            ),
        )
    except (KeyError, TypeError, ValueError, yaml.YAMLError) as exc:
        raise ContractError(f"{path}: {exc!r}") from exc


@cache
def load_topics(directory: Path | None = None) -> tuple[TopicSpec, ...]:
    """Every topic contract, sorted by name."""
    base = directory or schemas_dir()
    specs = [_parse(p) for p in sorted((base / "topics").glob("*.yaml"))]
    if not specs:
        raise ContractError(f"no topic contracts in {base / 'topics'}")
    return tuple(sorted(specs, key=lambda s: s.name))


def topic(name: str) -> TopicSpec:
    for spec in load_topics():
        if spec.name == name:
            return spec
    raise ContractError(f"unknown topic {name!r}")


class Topics:
    """Canonical topic names. A deployment may prefix them (THREADLINE_TOPIC_PREFIX) and tests
    give each run its own prefix, so every name is built through `Topics(prefix)`."""

    SLACK_EVENTS = "threadline.slack.events"
    ZENDESK_EVENTS = "threadline.zendesk.events"
    COMMANDS = "threadline.commands"
    LINKS = "threadline.links"
    FOLLOWS = "threadline.follows"
    ACTIVITY = "threadline.activity"
    RESULTS = "threadline.sync.results"
    ROUTER_INBOUND = "threadline.router.inbound"
    HOMES = "threadline.homes"
    SLACK_INSTALLATIONS = "threadline.slack.installations"

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix

    def name(self, canonical: str) -> str:
        return f"{self.prefix}{canonical}"

    def dlq(self, canonical: str) -> str:
        return f"{self.prefix}{canonical}.dlq"

    @property
    def slack_events(self) -> str:
        return self.name(self.SLACK_EVENTS)

    @property
    def zendesk_events(self) -> str:
        return self.name(self.ZENDESK_EVENTS)

    @property
    def commands(self) -> str:
        return self.name(self.COMMANDS)

    @property
    def links(self) -> str:
        return self.name(self.LINKS)

    @property
    def follows(self) -> str:
        return self.name(self.FOLLOWS)

    @property
    def activity(self) -> str:
        return self.name(self.ACTIVITY)

    @property
    def results(self) -> str:
        return self.name(self.RESULTS)

    @property
    def router_inbound(self) -> str:
        return self.name(self.ROUTER_INBOUND)

    @property
    def homes(self) -> str:
        return self.name(self.HOMES)

    @property
    def slack_installations(self) -> str:
        return self.name(self.SLACK_INSTALLATIONS)

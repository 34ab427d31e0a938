"""Validation against the JSON Schemas in schemas/json/, one file per topic and version."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from threadline_common.contracts import ContractError, load_topics, schemas_dir, topic


class SchemaViolation(ValueError):
    """A payload does not match its topic's schema; the message names the path and the rule."""

    def __init__(self, topic_name: str, version: int, error: ValidationError) -> None:
        path = "/".join(str(p) for p in error.absolute_path) or "(root)"
        super().__init__(f"{topic_name} v{version}: at {path}: {error.message}")
        self.path = path


@cache
def load_schema(topic_name: str, version: int) -> dict[str, Any]:
    spec = topic(topic_name)
    for schema in spec.schemas:
        if schema.version == version:
            if schema.resource is None:
                raise ContractError(f"{topic_name} v{version} has no JSON schema (type {schema.type})")
            data: dict[str, Any] = json.loads((schemas_dir() / "json" / schema.resource).read_text())
            Draft202012Validator.check_schema(data)
            return data
    raise ContractError(f"{topic_name} has no schema version {version}")


@cache
def _validator(topic_name: str, version: int) -> Draft202012Validator:
    return Draft202012Validator(load_schema(topic_name, version))


def validate(topic_name: str, version: int, payload: Any) -> None:
    error = next(iter(sorted(_validator(topic_name, version).iter_errors(payload), key=lambda e: e.path)), None)
    if error is not None:
        raise SchemaViolation(topic_name, version, error)


def examples(topic_name: str, version: int) -> Iterator[tuple[Path, Any]]:
    """Every example file of one topic version: (path, decoded JSON)."""
    spec = topic(topic_name)
    for schema in spec.schemas:
        if schema.version != version:
            continue
        for folder in schema.examples:
            for path in sorted((schemas_dir() / folder).glob("*.json")):
                yield path, json.loads(path.read_text())


def json_topics() -> list[tuple[str, int]]:
    return [(s.name, v.version) for s in load_topics() for v in s.schemas if v.type == "json"]

"""The JSON Schemas of schemas/json/ (one file per topic and version): validation and examples.

    validate("threadline.commands", 1, payload)   # raises SchemaViolation naming the path

`ContractSet(base)` reads one schemas/ directory; the module functions use this checkout's
(THREADLINE_SCHEMAS_DIR in containers). `ContractSet.problems()` lists every broken rule of
the directory: missing files, versions without examples, examples that fail their version or
a later backward-compatible one, published versions that changed (compat.lock).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from datetime import datetime
from functools import cache, cached_property
from pathlib import Path
from typing import Any, NamedTuple

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match, by_relevance

from threadline_common.contracts import ContractError, SchemaVersion, TopicSpec, load_topics, schemas_dir

LOCK_FILE = "compat.lock"

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
FORMATS = FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _is_rfc3339(value: object) -> bool:
    # jsonschema skips date-time silently without the optional rfc3339-validator package.
    if not isinstance(value, str):
        return True
    if not _RFC3339.fullmatch(value):
        return False
    datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S")  # real calendar date and time
    return True


class SchemaViolation(ValueError):
    """A payload does not match its topic's schema; the message names the path and the rule."""

    def __init__(self, topic: str, version: int, path: str, message: str) -> None:
        super().__init__(f"{topic} v{version}: at {path}: {message}")
        self.topic, self.version, self.path, self.message = topic, version, path, message


class Example(NamedTuple):
    path: Path
    payload: Any


class ContractSet:
    """The contracts of one schemas/ directory."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self._validators: dict[tuple[str, int], Draft202012Validator] = {}
        self._variant_validators: dict[tuple[str, int, str], Draft202012Validator] = {}

    @cached_property
    def topics(self) -> tuple[TopicSpec, ...]:
        return load_topics(self.base)

    def _version(self, topic: str, version: int) -> SchemaVersion:
        for spec in self.topics:
            if spec.name == topic:
                for candidate in spec.schemas:
                    if candidate.version == version:
                        return candidate
                raise ContractError(f"{topic} has no schema version {version}")
        raise ContractError(f"unknown topic {topic!r}")

    def json_versions(self) -> list[tuple[str, int]]:
        """(topic, version) of every version with a JSON Schema, in name order."""
        return [(s.name, v.version) for s in self.topics for v in s.schemas if v.type == "json"]

    def schema_path(self, topic: str, version: int) -> Path:
        entry = self._version(topic, version)
        if entry.type != "json" or not entry.resource:
            raise ContractError(f"{topic} v{version} has no JSON schema (type {entry.type})")
        return self.base / "json" / entry.resource

    def load_schema(self, topic: str, version: int) -> dict[str, Any]:
        schema: dict[str, Any] = json.loads(self.schema_path(topic, version).read_text())
        Draft202012Validator.check_schema(schema)
        return schema

    def validate(self, topic: str, version: int, payload: Any) -> None:
        key = (topic, version)
        if key not in self._validators:
            self._validators[key] = Draft202012Validator(self.load_schema(topic, version), format_checker=FORMATS)
        validator = self._validators[key]
        # A schema whose variants are told apart by a discriminator (`type`) needs checking against
        # the one variant the record names; walking every variant of the oneOf costs milliseconds a record.
        variant = self._variant_validator(key, validator.schema, payload)
        if variant is not None and variant.is_valid(payload):
            return
        errors = list(validator.iter_errors(payload))
        if errors:
            error = _explain(validator.schema, payload, errors)
            path = "/".join(str(p) for p in error.absolute_path) or "(root)"
            raise SchemaViolation(topic, version, path, error.message)

    def _variant_validator(
        self, key: tuple[str, int], schema: dict[str, Any], payload: Any
    ) -> Draft202012Validator | None:
        discriminator = schema.get("discriminator")
        if not isinstance(discriminator, dict) or not isinstance(payload, dict) or "oneOf" not in schema:
            return None
        name = payload.get(discriminator.get("propertyName", ""))
        if not isinstance(name, str) or name not in discriminator.get("mapping", {}):
            return None
        target = discriminator["mapping"][name]
        cache_key = (*key, name)
        if cache_key not in self._variant_validators:
            # The variants' discriminator values are distinct consts, so "exactly one of" is "this one".
            self._variant_validators[cache_key] = Draft202012Validator(
                {**schema, "oneOf": [{"$ref": target}]}, format_checker=FORMATS
            )
        return self._variant_validators[cache_key]

    def examples(self, topic: str, version: int) -> Iterator[Example]:
        for folder in self._version(topic, version).examples:
            for path in sorted((self.base / folder).glob("*.json")):
                yield Example(path, json.loads(path.read_text()))

    def all_examples(self) -> Iterator[tuple[str, int, Example]]:
        for topic, version in self.json_versions():
            for example in self.examples(topic, version):
                yield topic, version, example

    def hashes(self) -> dict[str, str]:
        """sha256 of every JSON Schema file there is, by file name."""
        paths = [self.schema_path(t, v) for t, v in self.json_versions()]
        return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in paths if path.is_file()}

    def locked(self) -> dict[str, str]:
        try:
            data: dict[str, str] = json.loads((self.base / LOCK_FILE).read_text())
        except FileNotFoundError:
            return {}
        return data

    def problems(self) -> list[str]:
        """Every broken contract rule, as readable sentences; empty when all is well."""
        found: list[str] = []
        for spec in self.topics:
            for version in spec.schemas:
                if version.type == "json":
                    found += self._version_problems(spec, version)
        locked = self.locked()
        for name, digest in self.hashes().items():
            if name not in locked:
                found.append(f"{name} is not in {LOCK_FILE}: run `python -m threadline_devstack.codegen --lock`")
            elif locked[name] != digest:
                found.append(
                    f"{name} changed after it was published: published versions are immutable, "
                    "add a new version file (and examples) instead"
                )
        return found

    def _version_problems(self, spec: TopicSpec, version: SchemaVersion) -> list[str]:
        label = f"{spec.name} v{version.version}"
        try:
            self.load_schema(spec.name, version.version)
        except (OSError, ContractError, ValueError) as exc:
            return [f"{label}: schema {version.resource!r} is missing or invalid: {exc}"]
        found = [
            f"{label}: examples folder {f!r} does not exist" for f in version.examples if not (self.base / f).is_dir()
        ]
        examples = list(self.examples(spec.name, version.version))
        if not examples:
            found.append(f"{label} has no example")
        # An example of version N must stay valid for every later version that promises backward compatibility.
        targets = [version.version] + [
            later.version
            for later in spec.schemas
            if later.version > version.version and later.type == "json" and later.compatibility_mode == "backward"
        ]
        for example in examples:
            for target in targets:
                try:
                    self.validate(spec.name, target, example.payload)
                except SchemaViolation as exc:
                    found.append(f"example {example.path.relative_to(self.base)} fails v{target}: {exc}")
        return found


_by_relevance = by_relevance()


def _relevance(error: ValidationError) -> tuple[Any, ...]:
    # An unexpected-property error is usually the echo of another one (an allOf branch that
    # failed evaluates nothing), so it only wins when it is the only problem.
    return (error.validator != "unevaluatedProperties", *_by_relevance(error))


def _explain(schema: dict[str, Any], payload: Any, errors: list[ValidationError]) -> ValidationError:
    """The most useful of the errors. For a union with a discriminator, report the error inside
    the variant the discriminator names, not "is not valid under any of the given schemas"."""
    discriminator = schema.get("discriminator") or {}
    prop, mapping = discriminator.get("propertyName"), discriminator.get("mapping") or {}
    union = next((e for e in errors if e.validator == "oneOf" and not e.path), None)
    if union is not None and prop and isinstance(payload, dict):
        if prop not in payload:
            return ValidationError(f"{prop!r} is a required property (one of {sorted(mapping)})")
        if not isinstance(payload[prop], str) or payload[prop] not in mapping:
            return ValidationError(f"{payload[prop]!r} is not one of {sorted(mapping)}", path=[prop])
        index = next(i for i, branch in enumerate(schema["oneOf"]) if branch.get("$ref") == mapping[payload[prop]])
        errors = [e for e in union.context or () if e.schema_path and e.schema_path[0] == index] or errors
    best = best_match(errors, key=_relevance)
    assert best is not None  # errors is never empty here
    return best


@cache
def default() -> ContractSet:
    return ContractSet(schemas_dir())


def load_schema(topic: str, version: int) -> dict[str, Any]:
    return default().load_schema(topic, version)


def validate(topic: str, version: int, payload: Any) -> None:
    """Raise SchemaViolation when `payload` is not a valid record of `topic` version `version`."""
    default().validate(topic, version, payload)


def examples(topic: str, version: int) -> Iterator[Example]:
    return default().examples(topic, version)


def all_examples() -> Iterator[tuple[str, int, Example]]:
    return default().all_examples()


def json_versions() -> list[tuple[str, int]]:
    return default().json_versions()

"""Decoding request bodies once they are verified. Pure: bytes in, values or BadRequest out."""

from __future__ import annotations

import hashlib
import json
import math
import urllib.parse
from typing import Any

import msgspec

MAX_FORM_FIELDS = 1000
_decode = msgspec.json.Decoder().decode


class BadRequest(Exception):
    """Signed (or otherwise authenticated) but malformed: answered 400."""


def _no_constant(name: str) -> Any:
    # NaN and Infinity are not JSON: a record carrying them would break every consumer.
    raise ValueError(f"{name} is not valid JSON")


def _finite(text: str) -> float:
    # 1e400 is Infinity by another spelling: no JSON encoder can write it back.
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text} does not fit a double")
    return value


def parse_json(body: bytes) -> dict[str, Any]:
    """A JSON object, or BadRequest (never another exception, whatever the bytes).

    msgspec first (several times faster than json.loads with hooks); it accepts only strict
    UTF-8 JSON without NaN, Infinity or out-of-range numbers, and then gives what json.loads
    would. Whatever it refuses goes the json.loads way, which decides as it always did (a BOM,
    UTF-16, a lone surrogate are accepted; NaN and 1e400 are not)."""
    try:
        data = _decode(body)
    except (msgspec.DecodeError, RecursionError):
        data = _stdlib_json(body)
    if not isinstance(data, dict):
        raise BadRequest("body is not a JSON object")
    return data


def _stdlib_json(body: bytes) -> Any:
    try:
        return json.loads(body, parse_constant=_no_constant, parse_float=_finite)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadRequest("body is not valid JSON") from exc


def parse_form(body: bytes) -> dict[str, str]:
    """An application/x-www-form-urlencoded body as one string per field (the last one wins)."""
    try:
        text = body.decode("ascii")
        pairs = urllib.parse.parse_qsl(
            text, keep_blank_values=True, encoding="utf-8", errors="strict", max_num_fields=MAX_FORM_FIELDS
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest("body is not a valid form") from exc
    return dict(pairs)


def body_id(body: bytes) -> str:
    """A stable id for a request that brings none: the same bytes give the same id."""
    return hashlib.sha256(body).hexdigest()


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()

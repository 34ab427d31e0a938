"""What every decoder shares: a record as a JSON object, an optional integer id, and the guard
that turns whatever a malformed record raises into a PoisonMessage."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from threadline_common.dlq import PoisonMessage
from threadline_router.inbound.events import Inbound


def json_record(value: bytes | str | dict[str, Any] | None) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if value is None:
        raise PoisonMessage("no value (a tombstone)")
    try:
        decoded = json.loads(value)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: nested too deep
        raise PoisonMessage(f"not JSON: {type(exc).__name__}") from exc
    if not isinstance(decoded, dict):
        raise PoisonMessage("not a JSON object")
    return decoded


def opt_int(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise PoisonMessage(f"not an integer id: {value!r}") from exc


# What a record of the right kind but the wrong shape (a string where an object belongs, a list
# for a field) raises inside a decoder: a poison message like any other, never a crash.
MALFORMED = (ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError, UnicodeDecodeError)


def guarded(decode: Callable[[Any], Inbound | None]) -> Callable[[Any], Inbound | None]:
    """`decode`, raising only PoisonMessage, whatever the bytes."""

    def run(record: Any) -> Inbound | None:
        try:
            return decode(record)
        except PoisonMessage:
            raise
        except MALFORMED as exc:
            raise PoisonMessage(f"malformed record ({type(exc).__name__}: {str(exc)[:200]})") from exc

    run.__name__ = getattr(decode, "__name__", "decode")
    return run

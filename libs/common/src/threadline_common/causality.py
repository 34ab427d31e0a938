"""How far a record is from what people did, and the guard that stops a chain that feeds itself.

Commands cause results and results cause commands (a failed post is told in the thread, a new
ticket names the on-call person), so a rule that answers a failure with another effect can loop
for ever. Every command and result carries its causal depth in a header: records from Slack or
Zendesk (and operators' records) are depth 0, a command has the depth of the record that caused
it, and a result is one deeper than its command. The longest chain the rules make on purpose is
event -> command -> result -> command -> result (depth 2); anything past MAX_CAUSAL_DEPTH is a
loop, dead-lettered once with the reason "loop" and counted, never performed.

Ids, not ancestors: a record names its cause by id (`cause.event_id`, `command_id`), and ids
derived from a failure are never derived again, so no record grows along a chain. MAX_RECORD_BYTES
bounds every record the services produce (the producers' request size and the topics'
max.message.bytes in schemas/topics) in case one ever would.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

DEPTH_HEADER = "threadline-causal-depth"
MAX_CAUSAL_DEPTH = 4
# Kafka's own default (1 MiB): a Slack message is at most 40,000 characters, which JSON-escaped
# is well under it. Set explicitly so that a producer and its topics agree.
MAX_RECORD_BYTES = 1_048_576

Headers = Mapping[str, bytes | str | None] | Iterable[tuple[str, bytes | str | None]] | None


def depth_of(headers: Headers) -> int:
    """The causal depth a record's headers name; 0 for a record from outside (no header).
    A header that does not parse counts as past the limit: it cannot prove it is not a loop."""
    items = headers.items() if isinstance(headers, Mapping) else (headers or ())
    for key, value in items:
        if key == DEPTH_HEADER:
            raw = value.decode(errors="replace") if isinstance(value, bytes) else str(value or "")
            try:
                return max(0, int(raw))
            except ValueError:
                return MAX_CAUSAL_DEPTH + 1
    return 0


def depth_header(depth: int) -> tuple[str, bytes]:
    return (DEPTH_HEADER, str(depth).encode())


def is_loop(depth: int) -> bool:
    return depth > MAX_CAUSAL_DEPTH


def loop_reason(depth: int) -> str:
    return f"loop: causal depth {depth} is past {MAX_CAUSAL_DEPTH}; a chain of effects feeds itself"

"""The router's own records about App Homes on threadline.router.inbound (threadline-source:
home), written and decoded here. A conversation whose status, ticket or waiting time changes
tells its requester's Home (`home_update`) and its channel's queue (`queue_update`); a queue whose
longest-waiting conversations change tells the Homes of the people who answer there
(`queue_snapshot`); the timer asks a Home whose publish was held back to publish now (`home_tick`).
Each is keyed by the row it is for: person:<team>:<user> or queue:<team>:<channel>."""

from __future__ import annotations

from typing import Any, TypeAlias

import msgspec

from threadline_common.dlq import PoisonMessage
from threadline_common.models import HomeItem

# threadline-source header of the records the router writes about Homes.
HOME_SOURCE = "home"


def queue_key(team_id: str, channel_id: str) -> str:
    """The row of one channel's queue."""
    return f"queue:{team_id}:{channel_id}"


class HomeUpdate(msgspec.Struct, frozen=True, tag="home_update", tag_field="kind"):
    """One conversation as its requester's Home lists it."""

    person: str  # person:<team>:<user>, the row
    team_id: str
    user: str
    item: HomeItem


class QueueUpdate(msgspec.Struct, frozen=True, tag="queue_update", tag_field="kind"):
    """One conversation of a channel, for its queue, and who answers there."""

    queue: str  # queue:<team>:<channel>, the row
    team_id: str
    channel_id: str
    item: HomeItem
    responders: tuple[str, ...] = ()


class QueueSnapshot(msgspec.Struct, frozen=True, tag="queue_snapshot", tag_field="kind"):
    """A channel's longest-waiting conversations (and how many wait), for one responder's Home."""

    person: str
    team_id: str
    user: str
    channel_id: str
    items: tuple[HomeItem, ...]
    waiting: int
    at: str


class HomeTick(msgspec.Struct, frozen=True, tag="home_tick", tag_field="kind"):
    """The Home changed after a recent publish: publish it now, if it still needs it."""

    person: str
    team_id: str
    user: str
    at: str


class FollowsChanged(msgspec.Struct, frozen=True, tag="follows_changed", tag_field="kind"):
    """The tickets the person follows changed (their follows row): the Home shows them."""

    person: str
    team_id: str
    user: str
    at: str


HomeRecord: TypeAlias = HomeUpdate | QueueUpdate | QueueSnapshot | HomeTick | FollowsChanged
_DECODER = msgspec.json.Decoder(HomeRecord)
_ENCODER = msgspec.json.Encoder()


def record_key(record: HomeRecord) -> str:
    """The row the record is for (its key on threadline.router.inbound)."""
    return record.queue if isinstance(record, QueueUpdate) else record.person


def home_record(record: HomeRecord) -> bytes:
    return _ENCODER.encode(record)


def decode_home(record: bytes | str | dict[str, Any]) -> HomeRecord:
    try:
        raw = _ENCODER.encode(record) if isinstance(record, dict) else record
        decoded = _DECODER.decode(raw)
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError) as exc:
        raise PoisonMessage(f"not a home record: {str(exc)[:200]}") from exc
    key = record_key(decoded)
    if not key.startswith("queue:" if isinstance(decoded, QueueUpdate) else "person:"):
        raise PoisonMessage(f"a {type(decoded).__name__} for the row {key[:100]!r}")
    return decoded

"""Rows of the follows table (threadline.follows v1), decoded. Pure: bytes in, a row or `BadRow` out.

Two kinds of row share the table, told apart by their key and their `kind`:

- `ticket:<id>`: the ticket's followers, each with their choices (what, how much text) and
  whether they may read the ticket's Slack thread;
- `person:<team>:<user>`: the tickets one person follows (`/support following`, the App Home).

A row that does not decode costs only itself, as in the links table: the event is decided as if
the row were absent (ids derive from events, so what is done again is recognised downstream).
"""

from __future__ import annotations

from typing import TypeAlias

import msgspec

from threadline_common.models import PersonFollows, TicketFollowers
from threadline_common.models.generated.follows_v1 import FollowChoices, FollowedTicket, Follower
from threadline_router.table import UNREADABLE, BadRow

FOLLOWS_VERSION = 1
FollowRow: TypeAlias = TicketFollowers | PersonFollows
# Ids of events applied, kept per row (the contract keeps at most 200).
FOLLOW_SEEN_LIMIT = 200
# The key prefixes of the follows table's rows: every other key is a links row.
TICKET_PREFIX, PERSON_PREFIX = "ticket:", "person:"

_ROWS = msgspec.json.Decoder(FollowRow)
ENCODER = msgspec.json.Encoder()

__all__ = [
    "FOLLOWS_VERSION",
    "FollowChoices",
    "FollowRow",
    "FollowedTicket",
    "Follower",
    "PersonFollows",
    "TicketFollowers",
    "decode_follow_row",
    "encode_follow_row",
    "is_follow_key",
    "new_person_row",
    "new_ticket_row",
]


def is_follow_key(key: str) -> bool:
    """Whether a row key belongs to the follows table (and not the links table)."""
    return key.startswith((TICKET_PREFIX, PERSON_PREFIX))


def decode_follow_row(raw: bytes | str) -> FollowRow:
    try:
        return _ROWS.decode(raw)
    except UNREADABLE as exc:
        raise BadRow(f"not a follows row: {str(exc)[:200]}") from exc


def encode_follow_row(row: FollowRow) -> bytes:
    return ENCODER.encode(row)


def new_ticket_row(ticket_id: int, ticket_url: str | None = None) -> TicketFollowers:
    return TicketFollowers(schema_version=1, ticket_id=ticket_id, followers=[], seen=[], ticket_url=ticket_url)


def new_person_row(team_id: str, user: str) -> PersonFollows:
    return PersonFollows(schema_version=1, team_id=team_id, user=user, tickets=[], seen=[])

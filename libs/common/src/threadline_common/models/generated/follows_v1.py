# Generated from schemas/json/threadline.follows.v1.schema.json by `make models`. Do not edit.

from __future__ import annotations

from typing import Annotated, Literal, TypeAlias

from msgspec import UNSET, Meta, Struct, UnsetType


class FollowChoices(Struct):
    """
    What a follower is told (agents' public replies, the requester's comments, status changes) and how much text: full, the first `chars` characters, or a summary (who, when, the link; no text).
    """

    what: Annotated[
        list[Literal['agent_replies', 'requester_comments', 'status_changes']],
        Meta(min_length=1),
    ]
    detail: Literal['full', 'first', 'summary']
    chars: Annotated[int, Meta(ge=1, le=3000)] | None | UnsetType = UNSET


class Follower(Struct):
    team_id: Annotated[str, Meta(min_length=1)]
    user: Annotated[str, Meta(min_length=1)]
    choices: FollowChoices
    sees_thread: Annotated[
        bool,
        Meta(
            description="Whether they are a member of the channel the ticket's thread is in (false: no text, only summaries)."
        ),
    ]
    since: str


SeenItem: TypeAlias = Annotated[str, Meta(max_length=512)]


class TicketFollowers(Struct, tag_field='kind', tag='ticket'):
    schema_version: Literal[1]
    ticket_id: Annotated[int, Meta(ge=1)]
    followers: Annotated[list[Follower], Meta(max_length=500)]
    seen: Annotated[
        list[SeenItem],
        Meta(
            description='Ids of the events applied to the row (the latest 200): a redelivery is recognised.',
            max_length=200,
        ),
    ]
    ticket_url: str | None | UnsetType = UNSET


class FollowedTicket(Struct):
    ticket_id: Annotated[int, Meta(ge=1)]
    since: str
    ticket_url: (
        Annotated[
            str,
            Meta(description="The ticket's link, as the follow check found it (shown on the person's Home)."),
        ]
        | None
        | UnsetType
    ) = UNSET


class PersonFollows(Struct, tag_field='kind', tag='person'):
    schema_version: Literal[1]
    team_id: Annotated[str, Meta(min_length=1)]
    user: Annotated[str, Meta(min_length=1)]
    tickets: Annotated[list[FollowedTicket], Meta(max_length=500)]
    seen: Annotated[
        list[SeenItem],
        Meta(
            description='Ids of the events applied to the row (the latest 200): a redelivery is recognised.',
            max_length=200,
        ),
    ]


FollowRow: TypeAlias = Annotated[
    TicketFollowers | PersonFollows,
    Meta(
        description="A row of the router's follows table: the followers of one ticket (kind ticket, key ticket:<id>) or the tickets one person follows (kind person, key person:<team>:<user>).",
        title='FollowRow',
    ),
]

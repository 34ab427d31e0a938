# Generated from schemas/json/threadline.homes.v1.schema.json by `make models`. Do not edit.

from __future__ import annotations

from typing import Annotated, Literal, TypeAlias

from msgspec import Meta, Struct

QueueSizesAdditionalProperty: TypeAlias = Annotated[int, Meta(ge=0)]


class HomeItem(Struct):
    """
    One conversation as a Home shows it.
    """

    conversation_id: Annotated[str, Meta(min_length=1)]
    channel_id: Annotated[str, Meta(min_length=1)]
    channel_name: str | None
    thread_ts: str | None
    ticket_id: int | None
    ticket_url: str | None
    status: Literal['creating', 'new', 'open', 'pending', 'hold', 'solved', 'closed', 'failed']
    requester: str | None
    private: Annotated[
        bool,
        Meta(
            description="A private request (a direct message): shown on its requester's Home only."
        ),
    ]
    opened_at: str | None
    waiting_since: Annotated[str, Meta(description='Since when it waits on the support side (null: it does not).')] | None
    updated_at: Annotated[
        str,
        Meta(
            description="The conversation's updated_at when it said this: an older word never replaces a newer one."
        ),
    ]


class PersonHome(Struct, tag_field='kind', tag='person'):
    """
    What one person's App Home tab shows (key person:<team>:<user>): their open requests, told by each conversation they asked in, and for responders the longest-waiting conversations of each channel they answer in, told by the channel's queue.
    """

    schema_version: Literal[1]
    person: Annotated[
        str, Meta(description='person:<team>:<user>, the key.', min_length=1)
    ]
    team_id: Annotated[str, Meta(min_length=1)]
    user: Annotated[str, Meta(description='The Slack user id.', min_length=1)]
    requests: Annotated[
        list[HomeItem],
        Meta(
            description='Their open requests (conversations they asked in, not solved or closed).',
            max_length=200,
        ),
    ]
    queue: Annotated[
        list[HomeItem],
        Meta(
            description="Per channel they answer in, the conversations waiting longest there (the channel queue's latest word).",
            max_length=500,
        ),
    ]
    queue_sizes: Annotated[
        dict[str, QueueSizesAdditionalProperty],
        Meta(description='Channel id -> how many conversations wait there.'),
    ]
    published: Annotated[
        int,
        Meta(
            description="How many times the Home was published: the next publish's command id.",
            ge=0,
        ),
    ]
    published_at: str | None
    dirty: Annotated[
        bool,
        Meta(
            description='Changed since the last publish, which was too recent to publish again at once (debounce).'
        ),
    ]
    updated_at: str


class ChannelQueue(Struct, tag_field='kind', tag='channel'):
    """
    One channel's queue (key queue:<team>:<channel>): its open conversations waiting on the support side, told by each, and the people who answer there (the channel's named responders, and anyone who answered in one of its threads), whose Homes it tells of its longest-waiting conversations.
    """

    schema_version: Literal[1]
    queue: Annotated[
        str, Meta(description='queue:<team>:<channel>, the key.', min_length=1)
    ]
    team_id: Annotated[str, Meta(min_length=1)]
    channel_id: Annotated[str, Meta(min_length=1)]
    waiting: Annotated[list[HomeItem], Meta(max_length=1000)]
    responders: Annotated[list[str], Meta(max_length=500)]
    told: Annotated[
        str,
        Meta(
            description="A digest of what the responders' Homes were last told (the longest-waiting and the count): told again only when it changes."
        ),
    ]
    updated_at: str


HomeRow: TypeAlias = Annotated[
    PersonHome | ChannelQueue,
    Meta(
        description="The router's index for App Home tabs, the value of the compacted homes table: a person's Home (kind person) or a channel's queue (kind channel). Conversations tell them when their status, ticket or waiting time changes; the latest word of each conversation wins (updated_at).",
        title='HomeRow',
    ),
]

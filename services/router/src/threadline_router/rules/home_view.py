"""The App Home tab as a person sees it: a pure function of what it lists.

`home_view(requests, follows, queues)` is the whole Home: the person's open requests, the tickets
they follow, and, for responders, the channels' conversations waiting longest. Whoever holds those
lists (the router's homes table for requests and queues; the follows table for follows) calls it,
and `slack.publish_home` carries what it returns. Built with slack_sdk's Block Kit models.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from threadline_common import to_slack
from threadline_common.models import HomeItem
from threadline_common.models.generated.follows_v1 import FollowedTicket
from threadline_common.times import parse_time

# Per list: more than this is "and N more" (a Home holds 100 blocks at most).
SHOWN = 10
# Per channel queue: the ones waiting longest; and at most this many channels (a Home holds 100
# blocks: 2 + 11 requests, 2 + 11 follows, 1 + 8 x 6 queues, and the "more" lines, stay under it).
QUEUE_SHOWN = 5
CHANNELS_SHOWN = 8
STATUS_LABELS = {
    "creating": "being created",
    "new": "new",
    "open": "open",
    "pending": "waiting for your reply",
    "hold": "on hold",
    "solved": "solved",
    "closed": "closed",
    "failed": "could not be created",
}


def home_view(
    requests: Sequence[HomeItem],
    follows: Sequence[FollowedTicket],
    queues: Sequence[HomeItem],
    queue_sizes: Mapping[str, int] | None = None,
) -> dict[str, object]:
    """The Home tab (a `views.publish` view): requests first, newest first; follows; then each
    channel's queue, oldest waiting first, with how many wait there (`queue_sizes`, channel id ->
    count; the items shown when not given). Sections with nothing in them say so, except the
    queues, shown to responders only (an empty `queues` is a person with nothing waiting)."""
    sizes = queue_sizes or {}
    blocks: list[Block] = [HeaderBlock(text="Your requests")]
    blocks += _items(
        sorted(requests, key=lambda i: i.opened_at or i.updated_at, reverse=True),
        "You have no open requests. Ask in a support channel, or send me a direct message.",
        requester=False,
    )
    blocks += [DividerBlock(), HeaderBlock(text="Tickets you follow")]
    blocks += _followed(follows)
    if queues:
        blocks += [DividerBlock(), HeaderBlock(text="Waiting longest in your channels")]
        channels = _by_channel(queues)
        for channel_id, waiting in channels[:CHANNELS_SHOWN]:
            oldest = sorted(waiting, key=lambda i: i.waiting_since or i.updated_at)
            count = max(sizes.get(channel_id, 0), len(waiting))
            blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*<#{channel_id}>*: {count} waiting")))
            blocks += _items(oldest, "", requester=True, limit=QUEUE_SHOWN, waiting=True)
        if len(channels) > CHANNELS_SHOWN:
            more = f"and {len(channels) - CHANNELS_SHOWN} more channels with requests waiting"
            blocks.append(ContextBlock(elements=[MarkdownTextObject(text=more)]))
    return View(type="home", blocks=blocks).to_dict()


def _followed(tickets: Sequence[FollowedTicket]) -> list[Block]:
    """The tickets the person follows, the latest followed first: their link and since when."""
    if not tickets:
        empty = "You follow no tickets. `/support follow <ticket>` follows one: its updates come as direct messages."
        return [ContextBlock(elements=[MarkdownTextObject(text=empty)])]
    newest = sorted(tickets, key=lambda t: t.since, reverse=True)
    lines = [
        f"{f'<{t.ticket_url}|#{t.ticket_id}>' if t.ticket_url else f'*#{t.ticket_id}*'} · since {_date(t.since)}"
        for t in newest[:SHOWN]
    ]
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=text)) for text in lines]
    if len(newest) > SHOWN:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"and {len(newest) - SHOWN} more")]))
    return blocks


def _by_channel(items: Iterable[HomeItem]) -> list[tuple[str, list[HomeItem]]]:
    """Channel ids and their items, the channel whose oldest waits longest first."""
    channels: dict[str, list[HomeItem]] = {}
    for item in items:
        channels.setdefault(item.channel_id, []).append(item)
    return sorted(channels.items(), key=lambda kv: min(i.waiting_since or i.updated_at for i in kv[1]))


def _items(
    items: Sequence[HomeItem], empty: str, *, requester: bool, limit: int = SHOWN, waiting: bool = False
) -> list[Block]:
    if not items:
        return [ContextBlock(elements=[MarkdownTextObject(text=empty)])] if empty else []
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=line(i, requester, waiting))) for i in items[:limit]
    ]
    if len(items) > limit:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"and {len(items) - limit} more")]))
    return blocks


def line(item: HomeItem, requester: bool = False, waiting: bool = False) -> str:
    """One conversation: its ticket (a link), its status, where it is, and since when."""
    ticket = f"#{item.ticket_id}" if item.ticket_id is not None else "New request"
    name = f"<{item.ticket_url}|{ticket}>" if item.ticket_url else f"*{ticket}*"
    status = STATUS_LABELS.get(item.status, item.status)
    if requester and item.status == "pending":
        status = "waiting on the requester"  # someone else's request: the reply awaited is not theirs
    parts = [f"{name} · {status}"]
    if not waiting:
        parts.append(_channel(item))  # a queue's lines are under their channel's name
    if requester and item.requester and to_slack.is_user_id(item.requester):
        parts.append(f"asked by {to_slack.mention(item.requester)}")
    since = item.waiting_since if waiting else item.opened_at
    if since:
        parts.append(("waiting since " if waiting else "opened ") + _date(since))
    return " · ".join(parts)


def _channel(item: HomeItem) -> str:
    if item.private:
        return "private request (direct message)"
    return f"<#{item.channel_id}>"


def _date(iso: str) -> str:
    """A time as Slack shows it in the reader's own timezone, with the UTC time as its fallback."""
    try:
        when = parse_time(iso)
    except ValueError:
        return iso
    return f"<!date^{int(when.timestamp())}^{{date_short_pretty}} {{time}}|{when:%Y-%m-%d %H:%M} UTC>"

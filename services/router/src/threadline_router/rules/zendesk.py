"""What a Zendesk ticket event means for its thread: an agent's public comment is posted there
(internal notes and Threadline's own comments never are), a status change is told and moves the
reminder clock, and an emailed ticket in a watched group gets a thread of its own."""

from __future__ import annotations

from typing import cast

from msgspec.structs import replace

from threadline_common.models.generated.commands_v4 import SlackOpenThread
from threadline_common.tickets import DONE_STATUSES, OPEN_STATUSES, WAITING_STATUSES
from threadline_router.conversation import Conversation, Status, external_id, new_conversation
from threadline_router.inbound import ZendeskTicketEvent
from threadline_router.rules import status_origin
from threadline_router.rules.activity import activity
from threadline_router.rules.commands import NO_CAUSE, UNSTAMPED, agent_comment, notice
from threadline_router.rules.decision import Context, Decision, ignore, mark_seen, role
from threadline_router.rules.results import counted_comment_key, own_copy_key

# The REST API says "email"; event webhooks say "mail" for the same ticket.
EMAIL_VIA_CHANNELS = frozenset({"email", "mail"})


def on_zendesk(event: ZendeskTicketEvent, state: Conversation | None, ctx: Context) -> Decision:
    seen_key = f"zd:{event.event_id}" if event.event_id else None
    if state is not None and seen_key and seen_key in state.seen:
        return ignore(state, "already applied")
    if state is None:
        if event.kind == "created" and event.external_id is None:
            return _email_ticket(event, ctx)
        return ignore(state, "ticket not linked to a thread")
    if event.ticket_id != state.ticket_id and event.ticket_id in state.previous_ticket_ids:
        return ignore(state, "event of an earlier ticket of this thread")
    if state.ticket_id is None and event.external_id == external_id(state):
        state = replace(state, ticket_id=event.ticket_id)
    if seen_key:
        state = mark_seen(state, seen_key, ctx.now)

    if event.kind == "created":
        if event.status and state.status == "creating":
            state = replace(state, status=cast(Status, event.status))
        return Decision(state)
    if event.kind == "status":
        return _on_status(event, state, ctx)
    return _on_comment(event, state, ctx)


def _on_status(event: ZendeskTicketEvent, state: Conversation, ctx: Context) -> Decision:
    current, previous = event.status or "", event.previous_status or state.status
    state = replace(state, status=cast(Status, current) or state.status)
    if state.status not in WAITING_STATUSES:
        state = replace(state, waiting_since=None, reminders_sent=0)
    elif state.waiting_since is None and previous not in WAITING_STATUSES:
        state = replace(state, waiting_since=ctx.now or None, reminders_sent=0)  # back with support
    state, via, by = status_origin.origin(state, event.ticket_id, current)
    changed = activity(
        "status_change",
        f"zd-status:{event.ticket_id}:{event.event_id}",
        state,
        occurred_at=event.occurred_at or ctx.now,
        ticket_id=event.ticket_id,
        actor_id=by,
        role="system" if by is None else role(state, by),
        source="zendesk" if via == "zendesk" else "slack",
        status=current,
        previous_status=previous,
        via=via,
    )
    text = None
    if current == "solved" and previous != "solved":
        text = f":white_check_mark: Ticket #{event.ticket_id} is solved. Reply here if you still need help."
    elif current == "closed" and previous != "closed":
        text = f":lock: Ticket #{event.ticket_id} is closed. A reply here opens a follow-up ticket."
    elif current in OPEN_STATUSES and previous in DONE_STATUSES:
        text = f":arrows_counterclockwise: Ticket #{event.ticket_id} is open again."
    if text is None or state.thread_ts is None:
        return Decision(state, [], [changed])
    return Decision(state, [notice(state, f"status:{event.ticket_id}:{event.event_id}", text)], [changed])


def _on_comment(event: ZendeskTicketEvent, state: Conversation, ctx: Context) -> Decision:
    public = event.comment_public
    if event.comment_id is not None and own_copy_key(event.comment_id) in state.seen:
        # zendesk-sync's comment_added named it: a Slack message, already counted in Slack.
        return Decision(state, reason="our copy of a Slack message")
    occurred_at = event.occurred_at or ctx.now
    if event.comment_id is not None:
        state = mark_seen(state, counted_comment_key(event.comment_id, occurred_at), ctx.now)
    commented = activity(
        "comment" if public else "internal_note",
        f"zd-comment:{event.comment_id}",
        state,
        occurred_at=occurred_at,
        ticket_id=event.ticket_id,
        actor_id=str(event.author_id) if event.author_id else None,
        role="bot" if _ours(event, ctx) else "agent" if event.author_is_staff else "requester",
        source="zendesk",
        text=event.comment_body if public else None,
        public=public,
    )
    # Internal notes never reach Slack; nor do comments Threadline itself wrote.
    if not public:
        return Decision(state, [], [commented], reason="internal note")
    if _ours(event, ctx):
        return Decision(state, [], [commented], reason="our own comment")
    if event.author_is_staff:
        state = replace(state, waiting_since=None, reminders_sent=0)  # support answered
    post = {
        "ticket_id": event.ticket_id,
        "comment_id": event.comment_id,
        "author": {"zendesk_user_id": event.author_id, "name": event.author_name},
        "body": event.comment_body,
        "html_body": event.comment_html,
    }
    if state.thread_ts is None:
        state = replace(state, pending_comments=[*state.pending_comments, post])
        return Decision(state, [], [commented], reason="thread not open yet")
    return Decision(state, [agent_comment(state, post)], [commented])


def _ours(event: ZendeskTicketEvent, ctx: Context) -> bool:
    """Written by Threadline's own Zendesk user (notices, unmapped people's copies): a bot's,
    which no figure counts as someone's message (the Slack message it copies is counted)."""
    return ctx.zendesk_api_user_id is not None and event.author_id == ctx.zendesk_api_user_id


def _email_ticket(event: ZendeskTicketEvent, ctx: Context) -> Decision:
    if event.via_channel not in EMAIL_VIA_CHANNELS or event.group_id is None:
        return ignore(None, "ticket not from email")
    channel = ctx.channels.email_groups.get(event.group_id)
    if channel is None:
        return ignore(None, "email ticket in a group no channel watches")
    cid = f"zd:{event.ticket_id}"
    state = new_conversation(
        conversation_id=cid,
        team_id="",
        channel_id=channel,
        thread_ts=None,
        origin="email",
        status=cast(Status, event.status or "new"),  # a Zendesk status (decoded lower case)
        created_at=ctx.now,
        updated_at=ctx.now,
        ticket_id=event.ticket_id,
        seen=[f"zd:{event.event_id}"],
    )
    command = SlackOpenThread(
        schema_version=1,
        command_id=f"open-thread:{event.ticket_id}",
        conversation_id=cid,
        issued_at=UNSTAMPED,
        cause=NO_CAUSE,
        channel_id=channel,
        ticket_id=event.ticket_id,
        subject=event.subject,
        body=event.description,
        requester_zendesk_id=event.requester_id,
    )
    created = activity(
        "ticket_created",
        f"zd-created:{event.ticket_id}",
        state,
        occurred_at=event.occurred_at or ctx.now,
        actor_id=str(event.requester_id) if event.requester_id else None,
        role="requester",
        source="email",
        text=event.description,
        status=event.status,
    )
    return Decision(state, [command], [created])

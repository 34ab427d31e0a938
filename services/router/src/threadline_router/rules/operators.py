"""What an operator's correction (threadline-ops relink / unlink) does to a conversation: the
row is switched to another ticket or deleted, and both the thread and the ticket are told."""

from __future__ import annotations

from typing import cast

from msgspec.structs import replace

from threadline_common import to_slack
from threadline_common.models import CommandV4
from threadline_common.tickets import WAITING_STATUSES
from threadline_router.conversation import Conversation, Status, new_conversation
from threadline_router.inbound import OperatorAction
from threadline_router.rules.commands import notice, ticket_note
from threadline_router.rules.decision import Context, Decision, ignore, mark_seen


def on_operator(action: OperatorAction, state: Conversation | None, ctx: Context) -> Decision:
    key = f"op:{action.action_id}"
    if state is not None and key in state.seen:
        return ignore(state, "already applied")
    if action.kind == "relink":
        return _relink(action, state, key, ctx)
    if action.kind == "unlink":
        return _unlink(action, state)
    return ignore(state, f"unknown operator action {action.kind}")


def _ticket_ref(ticket_id: int, url: str | None) -> str:
    return to_slack.link(url, f"#{ticket_id}") if url else f"#{ticket_id}"


def _relink(action: OperatorAction, state: Conversation | None, key: str, ctx: Context) -> Decision:
    """Link the thread to another (existing) ticket. threadline-ops has already pointed the
    ticket's external_id at this conversation, so the ticket's events find the thread."""
    ticket_id = action.ticket_id
    if ticket_id is None:
        return ignore(state, "relink without a ticket")
    previous: int | None = None
    if state is None:
        if not action.channel_id or not action.thread_ts:
            return ignore(state, "no conversation to relink and no thread named")
        if ctx.channels.rules_for(action.channel_id) is None:
            return ignore(state, "channel not monitored")
        now = ctx.now or action.at
        state = new_conversation(
            conversation_id=action.conversation_id,
            team_id=action.team_id,
            channel_id=action.channel_id,
            thread_ts=action.thread_ts,
            origin="slack",
            status=cast(Status, action.ticket_status or "open"),  # checked by the ops decoder
            created_at=now,
            updated_at=now,
            requester_slack_id=action.requester_slack_id,
            ticket_id=ticket_id,
            ticket_url=action.ticket_url,
            seen=[key],
        )
    elif state.ticket_id == ticket_id:
        return ignore(state, "already linked to this ticket")
    else:
        previous = state.ticket_id
        status = action.ticket_status or ("open" if state.status in ("creating", "failed") else state.status)
        state = replace(
            mark_seen(state, key, ctx.now),
            ticket_id=ticket_id,
            ticket_url=action.ticket_url,
            status=cast(Status, status),
            # Events of the ticket it had are recognised and kept out of the thread.
            previous_ticket_ids=[*state.previous_ticket_ids, *([previous] if previous else [])],
        )
    if state.status not in WAITING_STATUSES:
        state = replace(state, waiting_since=None, reminders_sent=0)
    commands: list[CommandV4] = []
    if state.thread_ts is not None:
        was = f" (it was linked to #{previous})" if previous else ""
        by = to_slack.escape(action.by)  # what the operator typed or their login: not Slack's text
        text = (
            f":link: {by} linked this thread to ticket {_ticket_ref(ticket_id, action.ticket_url)}{was}. "
            "Replies here now go to it."
        )
        commands.append(notice(state, f"relink:{action.action_id}", text))
        if state.status != "closed":
            note = f"Linked to the Slack thread {state.channel_id} {state.thread_ts} by {action.by} (threadline-ops)."
            if previous:
                note += f" The thread was linked to #{previous} before."
            commands.append(ticket_note(state, ticket_id, f"relink-note:{action.action_id}", note))
    return Decision(state, commands)


def _unlink(action: OperatorAction, state: Conversation | None) -> Decision:
    """Forget the link: the row is deleted, so neither side reaches the other any more."""
    if state is None:
        return ignore(state, "not linked")
    commands: list[CommandV4] = []
    if state.thread_ts is not None:
        ticket = f"ticket {_ticket_ref(state.ticket_id, state.ticket_url)}" if state.ticket_id else "its ticket"
        by = to_slack.escape(action.by)
        text = f":scissors: {by} unlinked this thread from {ticket}. Replies here no longer go to Zendesk."
        commands.append(notice(state, f"unlink:{action.action_id}", text))
        if state.ticket_id is not None and state.status != "closed":
            note = (
                f"Unlinked from the Slack thread {state.channel_id} {state.thread_ts} by {action.by} (threadline-ops)."
            )
            commands.append(ticket_note(state, state.ticket_id, f"unlink-note:{action.action_id}", note))
    return Decision(None, commands, unlink=True)

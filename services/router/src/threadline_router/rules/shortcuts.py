"""The rules for message shortcuts (decided by the row of the thread the message is in):

- "Open a support ticket" (`threadline.open_ticket`): a thread that has a ticket answers with its
  link; otherwise the channel's ticket form opens (`forms`), prefilled with the message;
- "Add to ticket" (`threadline.add_to_ticket`): a modal asks which ticket, and the submission
  copies the message there as a public comment (`forms`);
- "Add as internal note" (`threadline.add_note`): the message goes to the thread's ticket as a
  private note, never as a public comment.

Every answer is one line through the shortcut's response_url, seen only by who used it.
"""

from __future__ import annotations

from typing import Literal

from threadline_common import ticket_form, to_slack
from threadline_common.models import CommandV4
from threadline_common.models.generated.commands_v4 import ZendeskAddComment
from threadline_router.conversation import Conversation, conversation_key, external_id
from threadline_router.inbound import MessageShortcut, command_key
from threadline_router.rules.commands import NO_CAUSE, UNSTAMPED, open_view, person, tell_person
from threadline_router.rules.decision import Context, Decision, ignore, mark_seen
from threadline_router.rules.forms import open_form_retry, ticket_form_view

OPEN_TICKET = ticket_form.OPEN_TICKET
ADD_TO_TICKET = ticket_form.ADD_TO_TICKET
ADD_NOTE = "threadline.add_note"
# What "Add to ticket" carries of the message in the modal's private_metadata (3000 characters in all).
COPY_LIMIT = 2000


def on_shortcut(event: MessageShortcut, state: Conversation | None, ctx: Context) -> Decision:
    if event.callback_id == OPEN_TICKET:
        return _open_ticket(event, state, ctx)
    if event.callback_id == ADD_TO_TICKET:
        return _add_to_ticket(event, state, ctx)
    if event.callback_id == ADD_NOTE:
        return _add_note(event, state, ctx)
    return ignore(state, f"unknown shortcut {event.callback_id}")


def _note_head(event: MessageShortcut) -> str:
    """The note's first line: bare user ids, which zendesk-sync replaces by names."""
    by = f" (a message by {event.message_user})" if event.message_user and event.message_user != event.user else ""
    return f"Added from Slack by {event.user}{by}:"


def answer(event: MessageShortcut, text: str, purpose: Literal["answer", "error"] = "answer") -> CommandV4:
    """One line only who used the shortcut sees: through its response_url (Slack always sends
    one with a message shortcut), else ephemeral in the channel."""
    cid = conversation_key(event.team_id, event.channel_id, event.root_ts)
    command_id = f"shortcut-answer:{event.callback_id}:{event.event_id}"
    told = tell_person(
        cid, command_id, event.user, text, purpose, event.response_url, event.channel_id, event.thread_ts
    )
    assert told is not None  # a shortcut always has its channel
    return told


def _ticket_link(state: Conversation) -> str:
    return to_slack.link(state.ticket_url, f"#{state.ticket_id}") if state.ticket_url else f"#{state.ticket_id}"


def _open_ticket(event: MessageShortcut, state: Conversation | None, ctx: Context) -> Decision:
    rules = ctx.channels.rules_for(event.channel_id)
    if rules is None:
        text = "Threadline does not serve this channel: ask an admin to add it to the channels configuration."
        return Decision(state, [answer(event, text, "error")], reason="channel not monitored")
    if state is not None and state.ticket_id is not None:
        return Decision(state, [answer(event, f"This thread already has ticket {_ticket_link(state)}.")])
    if state is not None and state.status == "creating":
        return Decision(state, [answer(event, "This thread's ticket is being created; its link follows here.")])
    cid = conversation_key(event.team_id, event.channel_id, event.root_ts)
    requester = event.message_user or event.user
    view = ticket_form_view(rules, cid, event.channel_id, event.root_ts, requester, "shortcut", event.message_text)
    command = open_view(
        cid,
        f"open-form:{event.event_id}",
        event.trigger_id,
        event.user,
        view,
        event.response_url or None,
        open_form_retry(cid, event.channel_id, event.root_ts, requester, "shortcut", event.message_text),
    )
    return Decision(state, [command])


def _add_to_ticket(event: MessageShortcut, state: Conversation | None, ctx: Context) -> Decision:
    meta = ticket_form.metadata(
        conversation=command_key(event.team_id, event.channel_id, event.user),
        channel=event.channel_id,
        ts=event.message_ts,
        requester=event.message_user,
    )
    meta["text"] = event.message_text[:COPY_LIMIT]
    view = ticket_form.add_to_ticket_modal(meta, event.message_text)
    command = open_view(
        meta["conversation"],
        f"open-form:{event.event_id}",
        event.trigger_id,
        event.user,
        view,
        event.response_url or None,
        None,
    )
    return Decision(state, [command])


def _add_note(event: MessageShortcut, state: Conversation | None, ctx: Context) -> Decision:
    if state is None or state.ticket_id is None:
        text = "This thread has no ticket, so there is nothing to add a note to: open one first."
        return Decision(state, [answer(event, text, "error")], reason="no ticket for a note")
    key = f"note-shortcut:{event.message_ts}:{state.ticket_id}"
    if key in state.seen:
        return Decision(state, [answer(event, f"That message is already an internal note on {_ticket_link(state)}.")])
    state = mark_seen(state, key, ctx.now)
    note = ZendeskAddComment(
        schema_version=1,
        command_id=f"note:{state.conversation_id}:{event.message_ts}:{state.ticket_id}",
        conversation_id=state.conversation_id,
        issued_at=UNSTAMPED,
        cause=NO_CAUSE,
        external_id=external_id(state),
        ticket_id=state.ticket_id,
        body=f"{_note_head(event)}\n{event.message_text}",
        public=False,  # an internal note, whatever the message says
        author=person(event.message_user),
        slack_channel_id=event.channel_id,
        slack_ts=event.message_ts,
        files=[],
        reopen=False,
    )
    done = answer(event, f"Added to ticket {_ticket_link(state)} as an internal note (agents only).")
    return Decision(state, [note, done])

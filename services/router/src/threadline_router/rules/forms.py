"""The rules for Threadline's modals: opening the channel's ticket form (from the "Open a support
ticket" shortcut, `/support open`, or the button that opens it again when Slack's trigger had
expired), and what a submitted modal means.

Ingest has already validated a submission (threadline_common.ticket_form.problems): what reaches
the router may go ahead.

- The ticket form on a message (origin `shortcut`): the ticket opens on the message's thread,
  with the form's subject, priority, type and custom fields; its requester is the message's
  author (who used the shortcut on their own message, or someone else's).
- The ticket form of `/support open` (origin `command`): there is no thread yet. zendesk-sync
  posts the request in the channel as Threadline on the person's behalf, once (the post is found
  again by its command id), and opens the ticket on that new thread: its ts names the
  conversation. Its `ticket_created` result names the new thread, `moved_from` the person's
  command key, and makes the thread's row (`results`); replies in the thread then find it.
- "Add to ticket": the message goes to the ticket named as a public comment (zendesk-sync).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from msgspec import UNSET
from msgspec.structs import replace

from threadline_common import from_slack, ticket_form, to_slack
from threadline_common.channels import ChannelRules
from threadline_common.models.generated.commands_v4 import (
    CustomField,
    ZendeskCopyMessage,
    ZendeskCreateTicket,
    ZendeskOpenRequest,
)
from threadline_router.conversation import Conversation
from threadline_router.inbound import BlockAction, SlashCommand, ViewSubmission
from threadline_router.inbound.interactions import interaction_conversation
from threadline_router.rules.buttons import OPEN_FORM, tell
from threadline_router.rules.commands import NO_CAUSE, UNSTAMPED, open_view, person, respond, ticket_fields
from threadline_router.rules.decision import Context, Decision, ignore
from threadline_router.rules.opening import open_ticket, out_of_hours

Origin = Literal["shortcut", "command"]
# A button's value holds at most 2000 characters.
VALUE_LIMIT = 2000


def ticket_form_view(
    rules: ChannelRules,
    conversation: str,
    channel: str,
    ts: str | None,
    requester: str | None,
    origin: Origin,
    text: str,
) -> dict[str, Any]:
    """The channel's ticket form, prefilled with the message's (or the command's) text."""
    meta = ticket_form.metadata(
        conversation=conversation,
        channel=channel,
        ts=ts,
        requester=requester,
        form=ticket_form.form_spec(rules.zendesk.form),
        origin=origin,
    )
    subject = from_slack.subject(text, None) if text.strip() else ""
    return ticket_form.ticket_modal(meta, subject=subject, description=text, priority=rules.zendesk.priority)


def open_form_retry(
    conversation: str, channel: str, ts: str | None, requester: str | None, origin: Origin, text: str
) -> dict[str, Any]:
    """The button that opens the form again (a fresh press brings a fresh trigger_id): its value
    is the conversation's key, then what the form is built from (the text shortened to fit)."""
    for limit in (1200, 600, 200, 0):
        carried = {"c": channel, "ts": ts, "r": requester, "o": origin, "t": text[:limit]}
        value = f"{conversation}|{json.dumps(carried, ensure_ascii=False, separators=(',', ':'))}"
        if len(value) <= VALUE_LIMIT:
            break
    return {"action_id": OPEN_FORM, "value": value, "text": "Open the form"}


def open_from_command(event: SlashCommand, state: Conversation | None, ctx: Context) -> Decision:
    """`/support open [text]`: the channel's ticket form for a request with no thread yet."""
    cid = interaction_conversation(event)
    rules = ctx.channels.rules_for(event.channel_id)
    if rules is None:
        text = "Threadline does not serve this channel: `/support open` works in its support channels."
        refusal = respond(cid, f"open-refused:{event.event_id}", event.response_url, event.user, text, "error")
        return Decision(state, [refusal], reason="channel not monitored")
    text = " ".join(event.args)
    view = ticket_form_view(rules, cid, event.channel_id, None, event.user, "command", text)
    command = open_view(
        cid,
        f"open-form:{event.event_id}",
        event.trigger_id,
        event.user,
        view,
        event.response_url or None,
        open_form_retry(cid, event.channel_id, None, event.user, "command", text),
    )
    return Decision(state, [command])


def reopen_form(event: BlockAction, state: Conversation | None, ctx: Context) -> Decision:
    """The "Open the form" button zendesk-sync offered when the first trigger had expired."""
    cid, _, carried = event.value.partition("|")
    try:
        form = json.loads(carried)
        channel = str(form["c"])
    except (ValueError, KeyError, TypeError):
        return Decision(state, tell(event, cid, "That button no longer works: use the shortcut again.", "error"))
    rules = ctx.channels.rules_for(channel)
    if rules is None:
        return Decision(state, tell(event, cid, "Threadline no longer serves this channel.", "error"))
    if state is not None and state.ticket_id is not None:
        return Decision(state, tell(event, cid, "This thread has a ticket now.", "answer"))
    origin: Origin = "command" if form.get("o") == "command" else "shortcut"
    view = ticket_form_view(rules, cid, channel, form.get("ts"), form.get("r"), origin, str(form.get("t") or ""))
    command = open_view(
        cid, f"open-form:{event.event_id}", event.trigger_id, event.user, view, event.response_url, None
    )
    return Decision(state, [command])


def on_view_submission(event: ViewSubmission, state: Conversation | None, ctx: Context) -> Decision:
    if event.callback_id == ticket_form.OPEN_TICKET:
        return _ticket_form(event, state, ctx)
    if event.callback_id == ticket_form.ADD_TO_TICKET:
        return _add_to_ticket(event, state)
    return ignore(state, f"unknown modal {event.callback_id}")


def _fields(rules: ChannelRules, form: ticket_form.TicketForm) -> list[CustomField]:
    """The channel's fixed custom fields, with what the form asked for over them."""
    values: dict[int, Any] = {**rules.zendesk.custom_fields, **dict(form.custom_fields)}
    return [CustomField(id=k, value=v) for k, v in values.items()]


def _ticket_form(event: ViewSubmission, state: Conversation | None, ctx: Context) -> Decision:
    meta = event.metadata
    channel = str(meta.get("channel") or "")
    rules = ctx.channels.rules_for(channel)
    if rules is None:
        return ignore(state, "channel not monitored")
    form = ticket_form.submitted(event.values, meta)
    body = form.description or form.subject
    if meta.get("origin") == "command":
        return Decision(state, [_open_request(event, rules, channel, form, body)])
    if state is not None:
        return ignore(state, "the thread has its ticket already")  # a second submission, or a race with a reply
    ts = str(meta.get("ts") or "")
    if not ts:
        return ignore(state, "a ticket form without its message")
    requester = str(meta.get("requester") or event.user)
    decision = open_ticket(event.conversation, event.team_id, channel, ts, requester, body, (), rules, ctx)
    for i, command in enumerate(decision.commands):
        if isinstance(command, ZendeskCreateTicket):
            # ticket_type came with threadline.commands v3: the command says it is a v3 one.
            decision.commands[i] = replace(
                command,
                schema_version=3,
                subject=form.subject,
                priority=form.priority or command.priority,
                ticket_type=form.ticket_type or UNSET,
                custom_fields=_fields(rules, form),
                opened_by=event.user if event.user != requester else None,
            )
    return out_of_hours(decision, rules, ctx.now, f"ooh:{channel}:{ts}")


def request_text(user: str, form: ticket_form.TicketForm) -> str:
    """The request as the channel reads it: the person's own words, escaped (they ping nobody)."""
    text = f"{to_slack.mention(user)} asks: {to_slack.bold(form.subject)}"
    if form.description and form.description != form.subject:
        text += "\n" + to_slack.escape(form.description)
    return text


def _open_request(
    event: ViewSubmission, rules: ChannelRules, channel: str, form: ticket_form.TicketForm, body: str
) -> ZendeskOpenRequest:
    routing = ticket_fields(rules)
    return ZendeskOpenRequest(
        schema_version=3,
        command_id=f"open-request:{event.view_id or event.event_id}",
        conversation_id=event.conversation,
        issued_at=UNSTAMPED,
        cause=NO_CAUSE,
        channel_id=channel,
        request_text=request_text(event.user, form),
        requester=person(event.user),
        subject=form.subject,
        body=body,
        group_id=routing["group_id"],
        brand_id=routing["brand_id"],
        ticket_form_id=routing["ticket_form_id"],
        priority=form.priority or routing["priority"],
        ticket_type=form.ticket_type,
        tags=routing["tags"],
        custom_fields=_fields(rules, form),
    )


def _add_to_ticket(event: ViewSubmission, state: Conversation | None) -> Decision:
    meta = event.metadata
    ticket_id = ticket_form.ticket_number(event.values.get(ticket_form.TICKET))
    channel, ts = str(meta.get("channel") or ""), str(meta.get("ts") or "")
    if ticket_id is None or not (channel and ts):
        return ignore(state, "no ticket named")  # ingest refuses these before they are stored
    command = ZendeskCopyMessage(
        schema_version=3,
        command_id=f"copy:{channel}:{ts}:{ticket_id}",
        conversation_id=event.conversation,
        issued_at=UNSTAMPED,
        cause=NO_CAUSE,
        ticket_id=ticket_id,
        slack_channel_id=channel,
        slack_ts=ts,
        author=person(meta.get("requester")),
        body=str(meta.get("text") or ""),
        user=event.user,
        response_url=None,
    )
    return Decision(state, [command])

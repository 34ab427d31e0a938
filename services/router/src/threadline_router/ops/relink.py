"""`relink` and `unlink`: move a Slack thread to another ticket or off its own, as records the router applies."""

from __future__ import annotations

import argparse
import getpass
import uuid
from collections.abc import Callable
from typing import Any

from threadline_common.times import now_iso
from threadline_router.inbound import OPS_SOURCE, OperatorAction, action_record, conversation_key
from threadline_router.ops import parse
from threadline_router.ops.env import SOURCE_HEADER, Env, UsageError, check_channel, installations_source
from threadline_router.ops.kafka_io import OpsError, json_object
from threadline_router.ops.saas import Zendesk, slack_for_channel
from threadline_router.ops.show import find, named


def _operator(given: str | None) -> str:
    if given:
        return given
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "an operator"


def external_id(conversation: dict[str, Any]) -> str:
    """The external_id a conversation's ticket carries: its id, with `#generation` after the first."""
    generation = int(conversation.get("generation") or 1)
    cid = str(conversation["conversation_id"])
    return cid if generation == 1 else f"{cid}#{generation}"


def only(found: list[dict[str, Any]], argument: str, target: parse.Target) -> dict[str, Any] | None:
    """The one conversation found (None for none); refuse a target that names several."""
    if len(found) > 1:
        ids = ", ".join(str(c["conversation_id"]) for c in found)
        raise UsageError(argument, f"{named(target)} is {len(found)} conversations ({ids}): name one by its id")
    return found[0] if found else None


def holder(
    table: dict[str, dict[str, Any]], ticket_id: int, conversation: dict[str, Any] | None
) -> dict[str, Any] | None:
    """Another live conversation already linked to the ticket, or None."""
    return next(
        (
            c
            for c in table.values()
            if c.get("ticket_id") == ticket_id and c is not conversation and not c.get("moved_to")
        ),
        None,
    )


def _send_action(env: Env, action: OperatorAction, applied: Callable[[bytes | None], bool]) -> int:
    io, links = env.io, env.topics.links
    starts = io.end_offsets(links)
    key = action.conversation_id.encode()
    io.send(env.topics.router_inbound, [(key, action_record(action), [(SOURCE_HEADER, OPS_SOURCE.encode())], None)])
    wait = env.ops.wait_seconds
    if wait <= 0:
        env.say(f"sent {action.kind} {action.action_id} to the router")
        return 0
    seen = io.wait_for(links, starts, lambda m: m.key() == key and applied(m.value()), wait)
    if seen is None:
        env.say(f"sent {action.kind} {action.action_id}; the router has not applied it within {wait:.0f} s")
        env.say("(is the router running? it applies the record when it is)")
        return 1
    env.say(f"the router applied {action.kind} (links offset {seen.partition()}:{seen.offset()})")
    return 0


def _relinked(ticket_id: int) -> Callable[[bytes | None], bool]:
    def check(value: bytes | None) -> bool:
        row = json_object(value)
        return row is not None and row.get("ticket_id") == ticket_id

    return check


def run_relink(args: argparse.Namespace, env: Env) -> int:
    ref: parse.ThreadRef = args.link
    ticket_id: int = args.ticket
    target = parse.Target("thread", thread=ref)
    table = env.io.read_table(env.topics.links)
    conversation = only([c for c in table.values() if parse.matches(c, target)], "link", target)
    zendesk = Zendesk(env.ops)
    ticket = zendesk.ticket(ticket_id)
    if ticket is None:
        raise UsageError("ticket", f"Zendesk has no ticket #{ticket_id}")
    linked = holder(table, ticket_id, conversation)
    if linked is not None:
        raise UsageError(
            "ticket", f"#{ticket_id} is linked to {linked['conversation_id']}; unlink that conversation first"
        )
    requester = None
    if conversation is None:
        slack = slack_for_channel(env.ops, *installations_source(env), ref.channel_id)
        check_channel(env, ref.channel_id, "link")
        messages = slack.thread(ref.channel_id, ref.root_ts)
        root = next((m for m in messages if m["ts"] == ref.root_ts), None)
        if root is None:
            raise UsageError("link", f"Slack has no message {ref.root_ts} in {ref.channel_id}")
        requester = root.get("user")
        conversation = {"conversation_id": conversation_key(slack.team_id(), ref.channel_id, ref.root_ts)}
    new_external_id = external_id(conversation)
    zendesk.set_external_id(ticket, new_external_id)
    previous = conversation.get("ticket_id")
    if previous == ticket_id:
        env.say(f"{conversation['conversation_id']} is already linked to #{ticket_id}; nothing to do")
        return 0
    if previous:
        old = zendesk.ticket(int(previous))
        if old is not None and (old.external_id or None) == new_external_id:
            zendesk.set_external_id(old, None)  # its events must not reach the thread any more
    action = OperatorAction(
        kind="relink",
        action_id=uuid.uuid4().hex,
        conversation_id=str(conversation["conversation_id"]),
        by=_operator(args.by),
        at=now_iso(),
        team_id=str(conversation["conversation_id"]).split(":", 1)[0],
        channel_id=ref.channel_id,
        thread_ts=ref.root_ts,
        ticket_id=ticket_id,
        ticket_url=zendesk.url(ticket_id),
        ticket_status=str(ticket.status) if ticket.status else None,
        requester_slack_id=requester,
    )
    env.say(f"relinking {action.conversation_id} to #{ticket_id}" + (f" (was #{previous})" if previous else ""))
    return _send_action(env, action, _relinked(ticket_id))


def run_unlink(args: argparse.Namespace, env: Env) -> int:
    target: parse.Target = args.target
    conversation = only(find(env, target), "target", target)
    if conversation is None:
        raise OpsError(f"no conversation for {named(target)}: nothing to unlink")
    zendesk = Zendesk(env.ops)
    ticket_id = conversation.get("ticket_id")
    if ticket_id:
        ticket = zendesk.ticket(int(ticket_id))
        if ticket is not None and (ticket.external_id or None) == external_id(conversation):
            zendesk.set_external_id(ticket, None)  # a later backfill opens a new ticket, not this one
    action = OperatorAction(
        kind="unlink",
        action_id=uuid.uuid4().hex,
        conversation_id=str(conversation["conversation_id"]),
        by=_operator(args.by),
        at=now_iso(),
        ticket_id=int(ticket_id) if ticket_id else None,
    )
    env.say(f"unlinking {action.conversation_id}" + (f" from #{ticket_id}" if ticket_id else ""))
    return _send_action(env, action, lambda value: value is None)

"""What zendesk-sync's results mean: a ticket exists (the thread names who is on call), an
emailed ticket's thread is open (the agents' waiting comments follow), a command failed for good
(the thread hears it once, never about a notice), or the Slack thread is gone (the ticket hears
it once, in an internal note, and nothing more is said in Slack)."""

from __future__ import annotations

from typing import TypeVar

from msgspec import UNSET, UnsetType
from msgspec.structs import replace

from threadline_common import to_slack
from threadline_common.models import SyncResultV3
from threadline_common.times import slack_ts_time
from threadline_router.conversation import Conversation, external_id, new_conversation, thread_conversation_id
from threadline_router.rules import answers
from threadline_router.rules.activity import activity
from threadline_router.rules.commands import agent_comment, notice, on_call, ticket_note
from threadline_router.rules.decision import Context, Decision, ignore, mark_seen

# Commands whose failure the thread is not told about: a notice about a failed notice would
# fail the same way (the loop that once filled a broker's disk), and a lost reaction says nothing.
# An automatic answer is best-effort: a person answers anyway.
UNTOLD_FAILURES = frozenset({"slack.post_message", "slack.add_reaction", "slack.post_ephemeral", "slack.post_answers"})

T = TypeVar("T")


def _opt(value: T | UnsetType | None) -> T | None:
    """A field the result may leave out: absent reads as null."""
    return None if value is UNSET else value


def on_result(result: SyncResultV3, state: Conversation | None, ctx: Context) -> Decision:
    if result.kind == "ticket_created":
        return _ticket_created(result, state, ctx)
    if result.kind == "thread_opened":
        return _thread_opened(result, state, ctx)
    if result.kind == "failed":
        return _on_failed(result, state, ctx)
    if result.kind == "thread_gone":
        return _on_thread_gone(result, state, ctx)
    return ignore(state, f"unknown result {result.kind}")


def requested_by(moved_from: str | None) -> str | None:
    """Who asked with `/support open`: the person of the command key the request came from
    (`<team>:<channel>:command:<user>`, threadline_router.inbound.interactions.command_key)."""
    parts = (moved_from or "").split(":")
    return parts[3] if len(parts) == 4 and parts[2] == "command" and parts[3] else None


def _requested(result: SyncResultV3, ctx: Context) -> Conversation | None:
    """The thread `/support open` posted: its conversation starts with its ticket."""
    requester = requested_by(_opt(result.moved_from))
    thread_ts = _opt(result.thread_ts)
    if requester is None or not (result.team_id and result.channel_id and thread_ts):
        return None
    at = slack_ts_time(thread_ts)
    return new_conversation(
        conversation_id=result.conversation_id,
        team_id=result.team_id,
        channel_id=result.channel_id,
        thread_ts=thread_ts,
        origin="slack",
        status="creating",
        created_at=at,
        updated_at=ctx.now or at,
        requester_slack_id=requester,
        seen=[f"msg:{thread_ts}"],
        waiting_since=at,
    )


def _ticket_created(result: SyncResultV3, state: Conversation | None, ctx: Context) -> Decision:
    if state is None:
        state = _requested(result, ctx)
    if state is None:
        return ignore(state, "result for an unknown conversation")
    ticket_id = _opt(result.ticket_id)
    state = replace(
        state,
        ticket_id=ticket_id,
        ticket_url=_opt(result.ticket_url),
        status="new" if state.status == "creating" else state.status,
        updated_at=ctx.now or state.updated_at,
    )
    created = activity(
        "ticket_created",
        f"zd-created:{ticket_id}",
        state,
        occurred_at=ctx.now,
        actor_id=state.requester_slack_id,
        role="requester",
        source="slack",
        status="new",
    )
    # "This solved it" pressed while the ticket was being created: solved now.
    state, solved = answers.solve_when_created(state, ctx)
    rules = ctx.channels.rules_for(state.channel_id)
    if rules is None or rules.on_call is None or state.thread_ts is None or ticket_id is None:
        return Decision(state, [*solved], [created])
    return Decision(state, [on_call(state, rules, f"oncall:{ticket_id}", "ticket_opened", None), *solved], [created])


def _thread_opened(result: SyncResultV3, state: Conversation | None, ctx: Context) -> Decision:
    ticket_id = _opt(result.ticket_id)
    if _opt(result.moved_from) is None:
        # The email conversation now lives under its thread too: Slack replies find it.
        if state is not None:
            return ignore(state, "thread already linked")
        linked = new_conversation(
            conversation_id=result.conversation_id,
            team_id=result.team_id or "",
            channel_id=result.channel_id or "",
            thread_ts=_opt(result.thread_ts),
            origin="email",
            status="new",
            created_at=ctx.now,
            updated_at=ctx.now,
            ticket_id=ticket_id,
            ticket_url=_opt(result.ticket_url),
            waiting_since=ctx.now or None,
        )
        rules = ctx.channels.rules_for(linked.channel_id)
        if rules is None or rules.on_call is None or linked.thread_ts is None or ticket_id is None:
            return Decision(linked)
        return Decision(linked, [on_call(linked, rules, f"oncall:{ticket_id}", "ticket_opened", None)])
    if state is None:
        return ignore(state, "result for an unknown conversation")
    pending = state.pending_comments
    state = replace(
        state,
        thread_ts=_opt(result.thread_ts),
        team_id=result.team_id or state.team_id,
        moved_to=thread_conversation_id(result),
        pending_comments=[],
    )
    return Decision(state, [agent_comment(state, post) for post in pending])


def _on_failed(result: SyncResultV3, state: Conversation | None, ctx: Context) -> Decision:
    """A command failed for good: the thread hears it once per command, and never about a notice."""
    if state is None or state.thread_ts is None:
        return ignore(state, "failure outside a thread")
    # v1 results do not name the command's type; a notice's own id starts with `failed:`.
    command_type = _opt(result.command_type)
    if command_type in UNTOLD_FAILURES or result.command_id.startswith("failed:"):
        return ignore(state, "a failed Slack post is not answered with another post")
    key = f"failed:{result.command_id}"
    if key in state.seen:
        return ignore(state, "the thread was told already")
    state = mark_seen(state, key, ctx.now)
    if state.status == "creating" and command_type in ("zendesk.create_ticket", "zendesk.create_followup"):
        state = replace(state, status="failed")
    reason = to_slack.escape(result.reason or "no reason given")  # Zendesk's or Slack's words
    text = f":warning: Threadline could not update Zendesk for this thread: {reason}"
    return Decision(state, [notice(state, key, text)])


def _on_thread_gone(result: SyncResultV3, state: Conversation | None, ctx: Context) -> Decision:
    """Slack says the thread (or its channel) no longer exists: the conversation records it and
    the ticket hears it once, in an internal note, instead of Threadline talking into the void."""
    if state is None:
        return ignore(state, "result for an unknown conversation")
    if state.thread_gone_at is not None:
        return ignore(state, "the thread is known to be gone")
    ticket_id = state.ticket_id or _opt(result.ticket_id)
    state = replace(
        state,
        thread_gone_at=ctx.now or state.updated_at,
        ticket_id=ticket_id,
        ticket_url=state.ticket_url or _opt(result.ticket_url),
        # No ticket and no thread (a message gone before its ticket was made): nothing will come of it.
        status=("new" if ticket_id else "failed") if state.status == "creating" else state.status,
        waiting_since=None,
        updated_at=ctx.now or state.updated_at,
    )
    if ticket_id is None:
        return Decision(state, reason="the thread is gone and there is no ticket to tell")
    where = (
        f"thread {state.thread_ts} of channel {state.channel_id}" if state.thread_ts else f"channel {state.channel_id}"
    )
    note = (
        f"Threadline can no longer post in Slack for this ticket ({result.reason or 'the thread is gone'}): "
        f"the {where} was deleted or is out of reach. Answers here will not appear in Slack; "
        "reach the requester by email, or ask them to start a new Slack thread."
    )
    return Decision(state, [ticket_note(state, ticket_id, f"thread-gone:{external_id(state)}", note)])

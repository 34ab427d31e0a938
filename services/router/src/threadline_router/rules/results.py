"""What zendesk-sync's results mean: a ticket exists (the thread names who is on call, or the
fireman), an
emailed ticket's thread is open (the agents' waiting comments follow), a command failed for good
(the thread hears it once, never about a notice), or the Slack thread is gone (the ticket hears
it once, in an internal note, and nothing more is said in Slack), or a Slack message is now a
Zendesk comment (that comment's webhook is the copy, not a second message)."""

from __future__ import annotations

from typing import TypeVar

from msgspec import UNSET, UnsetType
from msgspec.structs import replace

from threadline_common import to_slack
from threadline_common.channels import ChannelRules
from threadline_common.models import SyncResultV4
from threadline_common.times import slack_ts_time
from threadline_router.conversation import Conversation, external_id, new_conversation, thread_conversation_id
from threadline_router.rules import answers
from threadline_router.rules.activity import activity
from threadline_router.rules.commands import Command, agent_comment, notice, on_call, ticket_note
from threadline_router.rules.decision import Context, Decision, ignore, mark_seen
from threadline_router.rules.fireman import name_fireman

# Commands whose failure the thread is not told about: a notice about a failed notice would
# fail the same way (the loop that once filled a broker's disk), and a lost reaction says nothing.
# An automatic answer is best-effort: a person answers anyway.
UNTOLD_FAILURES = frozenset({"slack.post_message", "slack.add_reaction", "slack.post_ephemeral", "slack.post_answers"})

T = TypeVar("T")


def _opt(value: T | UnsetType | None) -> T | None:
    """A field the result may leave out: absent reads as null."""
    return None if value is UNSET else value


def on_result(result: SyncResultV4, state: Conversation | None, ctx: Context) -> Decision:
    if result.kind == "ticket_created":
        return _ticket_created(result, state, ctx)
    if result.kind == "thread_opened":
        return _thread_opened(result, state, ctx)
    if result.kind == "failed":
        return _on_failed(result, state, ctx)
    if result.kind == "thread_gone":
        return _on_thread_gone(result, state, ctx)
    if result.kind == "comment_added":
        return _comment_added(result, state, ctx)
    return ignore(state, f"unknown result {result.kind}")


def requested_by(moved_from: str | None) -> str | None:
    """Who asked with `/support open`: the person of the command key the request came from
    (`<team>:<channel>:command:<user>`, threadline_router.inbound.interactions.command_key)."""
    parts = (moved_from or "").split(":")
    return parts[3] if len(parts) == 4 and parts[2] == "command" and parts[3] else None


def _requested(result: SyncResultV4, ctx: Context) -> Conversation | None:
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


def _ticket_created(result: SyncResultV4, state: Conversation | None, ctx: Context) -> Decision:
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
    return Decision(state, [*_who_is_coming(state, rules, ticket_id, ctx), *solved], [created])


def _who_is_coming(
    state: Conversation, rules: ChannelRules | None, ticket_id: int | None, ctx: Context
) -> list[Command]:
    """A new ticket's thread names who is on call (PagerDuty), else the rotation's fireman."""
    if rules is None or state.thread_ts is None or ticket_id is None:
        return []
    if rules.on_call is not None:
        return [on_call(state, rules, f"oncall:{ticket_id}", "ticket_opened", None)]
    named = name_fireman(state, rules, ctx, f"fireman:{ticket_id}", "ticket_opened")
    return [named] if named is not None else []


def _thread_opened(result: SyncResultV4, state: Conversation | None, ctx: Context) -> Decision:
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
        return Decision(linked, _who_is_coming(linked, ctx.channels.rules_for(linked.channel_id), ticket_id, ctx))
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


def _on_failed(result: SyncResultV4, state: Conversation | None, ctx: Context) -> Decision:
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


def _on_thread_gone(result: SyncResultV4, state: Conversation | None, ctx: Context) -> Decision:
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


def _comment_added(result: SyncResultV4, state: Conversation | None, ctx: Context) -> Decision:
    """The comment zendesk-sync wrote is Threadline's copy of a Slack message, counted there.
    Its webhook usually comes after this result and is then skipped (`zc:<id>`, rules.zendesk);
    when it came first it was counted as a Zendesk comment, and this overwrites that activity
    (same event id, same time, so the same document) with a `copy`, which no figure counts."""
    comment_id = _opt(result.comment_id)
    if state is None or comment_id is None:
        return ignore(state, "comment_added without its conversation or comment")
    copy_key = own_copy_key(comment_id)
    if copy_key in state.seen:
        return ignore(state, "already known as our copy")
    counted_at = comment_counted_at(state, comment_id)
    state = mark_seen(state, copy_key, ctx.now)
    if counted_at is None:
        return Decision(state, reason="our copy, before its webhook")
    recount = activity(
        "copy",
        f"zd-comment:{comment_id}",
        state,
        occurred_at=counted_at,
        ticket_id=_opt(result.ticket_id),
        actor_id=None,
        role="system",
        source="zendesk",
    )
    return Decision(state, [], [recount], reason="our copy, after its webhook: recounted")


def own_copy_key(comment_id: int) -> str:
    """`seen` key: this Zendesk comment is Threadline's copy of a Slack message."""
    return f"zc:{comment_id}"


def counted_comment_key(comment_id: int, occurred_at: str) -> str:
    """`seen` key: this Zendesk comment was counted as someone's comment, at `occurred_at` (a
    recount must name the same time: the events index is chosen by it)."""
    return f"zd-comment:{comment_id}@{occurred_at}"


def comment_counted_at(state: Conversation, comment_id: int) -> str | None:
    prefix = f"zd-comment:{comment_id}@"
    return next((key[len(prefix) :] for key in state.seen if key.startswith(prefix)), None)

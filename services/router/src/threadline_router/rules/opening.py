"""Opening a ticket for a new request (a message, an emoji, a backfilled question), and the
out-of-hours notice a request made outside the channel's business hours hears."""

from __future__ import annotations

from typing import Any

from threadline_common import from_slack
from threadline_common.business_hours import describe_opening, is_open
from threadline_common.channels import ChannelRules, is_direct_message
from threadline_common.models.generated.commands_v4 import ZendeskCreateTicket
from threadline_common.times import parse_time, slack_ts_time
from threadline_router.conversation import external_id, new_conversation
from threadline_router.rules.activity import activity
from threadline_router.rules.commands import NO_CAUSE, UNSTAMPED, file_ref, notice, person, ticket_fields
from threadline_router.rules.decision import Context, Decision


def open_ticket(
    cid: str,
    team_id: str,
    channel_id: str,
    ts: str,
    author: str | None,
    text: str,
    files: tuple[dict[str, Any], ...],
    rules: ChannelRules,
    ctx: Context,
) -> Decision:
    at = slack_ts_time(ts)
    state = new_conversation(
        conversation_id=cid,
        team_id=team_id,
        channel_id=channel_id,
        thread_ts=ts,
        origin="slack",
        status="creating",
        created_at=at,
        updated_at=ctx.now or at,
        requester_slack_id=author,
        seen=[f"msg:{ts}"],
        waiting_since=at if author else ctx.now or at,
    )
    create = ZendeskCreateTicket(
        schema_version=1,
        command_id=f"create:{cid}",
        conversation_id=cid,
        issued_at=UNSTAMPED,
        cause=NO_CAUSE,
        external_id=external_id(state),
        subject=from_slack.subject(text, None),
        body=text,
        requester=person(author),
        slack_channel_id=channel_id,
        slack_thread_ts=ts,
        files=[file_ref(f) for f in files],
        **ticket_fields(rules),
    )
    if is_direct_message(channel_id):
        create.private = True  # a direct message: the ticket names no channel and links nowhere
        create.schema_version = 3  # `private` is a v3 field: no longer the command as v1 wrote it
    message = activity(
        "message",
        f"slack:{channel_id}:{ts}",
        state,
        occurred_at=at,
        actor_id=author,
        role="requester",
        source="slack",
        text=text,
    )
    return Decision(state, [create], [message])


def out_of_hours(decision: Decision, rules: ChannelRules, at: str, command_id: str) -> Decision:
    """A new request outside the channel's business hours hears when the team is back."""
    state = decision.state
    if rules.out_of_hours is None or state is None or not at:
        return decision
    when = parse_time(at)
    if is_open(rules, when):
        return decision
    text = rules.out_of_hours.message.format(opens=describe_opening(rules, when))
    decision.commands.append(notice(state, command_id, text))
    return decision

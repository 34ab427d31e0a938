"""The commands that write in Slack: posts (agents' comments, notices, help), reactions, ephemeral
messages, answers to interactions (response_url), and the thread an emailed ticket opens.

A post is looked for by its command id before it is made; a reaction already there is done. An
ephemeral message leaves nothing to look for, so a redelivered one may show twice.
"""

from __future__ import annotations

import functools
from typing import Any

from threadline_common.models.generated.commands_v4 import (
    SlackAddReaction,
    SlackOpenThread,
    SlackPostEphemeral,
    SlackPostMessage,
    SlackPublishHome,
    SlackRespond,
)
from threadline_zendesk_sync.plan import attachments, outcomes, slack_posts, zendesk_requests
from threadline_zendesk_sync.plan.failures import PermanentError, ThreadGone
from threadline_zendesk_sync.plan.outcomes import Outcome
from threadline_zendesk_sync.settings import ZendeskSyncSettings
from threadline_zendesk_sync.slack_poster import Slack
from threadline_zendesk_sync.zendesk_client import Zendesk


class ThreadCommands:
    def __init__(self, settings: ZendeskSyncSettings, zendesk: Zendesk, slack: Slack) -> None:
        self.settings = settings
        self.zendesk = zendesk
        self.slack = slack

    async def post_message(self, command: SlackPostMessage) -> Outcome:
        extra: dict[str, Any] = {}
        text = command.text
        if command.purpose == "agent_comment":
            payload = slack_posts.event_payload(command)
            ticket_id, comment_id = int(payload["ticket_id"]), int(payload["comment_id"])
            comment = (await self.zendesk.comments(ticket_id)).get(comment_id)
            if comment is None:
                comment = (await self.zendesk.comments(ticket_id, refresh=True)).get(comment_id)
            # Loop guard: what Threadline wrote to Zendesk, and internal notes, never come back.
            if not zendesk_requests.agent_may_post(comment):
                return Outcome("skipped", detail=f"comment {comment_id} is ours or internal")
            extra = slack_posts.agent_post(command, await self.zendesk.photo(payload.get("author_zendesk_id")))
            text += attachments.attachment_lines((comment or {}).get("attachments") or [])
        elif command.blocks:
            extra["blocks"] = command.blocks
        _, posted = await self.slack.post_once(
            command.command_id,
            command.channel_id,
            command.thread_ts,
            text,
            slack_posts.post_metadata(command.command_id, command.metadata or None),
            since=slack_posts.look_back_from(command),
            **extra,
        )
        return Outcome("done" if posted else "already_done", detail=command.purpose)

    async def add_reaction(self, command: SlackAddReaction) -> Outcome:
        try:
            await self.slack.react(command.channel_id, command.ts, command.name)
        except ThreadGone:
            return Outcome("skipped", detail="the message is gone")  # nothing to react to; the thread may live
        except PermanentError as exc:
            if "already_reacted" in str(exc):
                return Outcome("already_done", detail=command.name)
            raise
        return Outcome("done", detail=command.name)

    async def open_thread(self, command: SlackOpenThread) -> Outcome:
        """An emailed ticket: a root message in the channel, the ticket pointed at the thread,
        and the router told under both keys of the conversation."""
        team_id = await self.slack.team()
        ticket_id = command.ticket_id
        ticket = await self.zendesk.ticket(ticket_id)
        url = command.ticket_url or self.settings.ticket_url(ticket_id)
        requester_id = command.requester_zendesk_id or getattr(ticket, "requester_id", None)
        requester = await self.zendesk.user(int(requester_id)) if requester_id else None
        channel = command.channel_id
        ts, posted = await self.slack.post_once(
            command.command_id,
            channel,
            None,
            slack_posts.email_thread_text(command, slack_posts.thread_opener(requester), url),
            slack_posts.post_metadata(command.command_id, ticket_id=ticket_id),
            since=slack_posts.look_back_from(command),
        )
        key = outcomes.thread_key(team_id, channel, ts)
        # The ticket points at the thread, and an internal note gives the agent its permalink:
        # one update, written once (its command id is in the audit metadata).
        note_id = f"thread-note:{command.command_id}"
        noted = not await self.zendesk.already_written(ticket_id, note_id)
        if noted:
            permalink = await self.slack.permalink(channel, ts)
            await self.zendesk.update_ticket(
                ticket_id, zendesk_requests.thread_note_request(note_id, key, permalink, channel)
            )
        elif ticket.external_id != key:
            await self.zendesk.update_ticket(ticket_id, {"external_id": key})
        where = functools.partial(
            outcomes.result, "thread_opened", command,
            ticket_id=ticket_id, ticket_url=url, team_id=team_id, channel_id=channel, thread_ts=ts,
        )  # fmt: skip
        return Outcome(
            "done" if posted or noted else "already_done",
            [where(conversation_id=key), where(moved_from=command.conversation_id)],
            f"ticket {ticket_id} -> {key}",
        )

    async def post_ephemeral(self, command: SlackPostEphemeral) -> Outcome:
        # Ephemeral messages leave nothing to look for: a redelivered command may show twice.
        try:
            await self.slack.post_ephemeral(command.channel_id, command.user, command.text, command.thread_ts or None)
        except PermanentError as exc:
            # A notice to one person (a denied action emoji) they cannot be shown is nobody's
            # failure: the thread is not told about it.
            if command.purpose == "notice" and "user_not_in_channel" in str(exc):
                return Outcome("skipped", detail=f"{command.user} is not in the channel")
            raise
        return Outcome("done", detail=command.purpose)

    async def respond(self, command: SlackRespond) -> Outcome:
        """The answer to a slash command, a button or a shortcut. Like an ephemeral message it
        leaves nothing to look for, so a redelivery may answer twice."""
        answered = await self.slack.respond(
            command.response_url,
            text=command.text,
            blocks=command.blocks or None,
            response_type=command.response_type or "ephemeral",
            replace_original=command.replace_original or False,
        )
        if not answered:
            return Outcome("skipped", detail="response_url refused")
        return Outcome("done", detail=command.purpose)

    async def publish_home(self, command: SlackPublishHome) -> Outcome:
        """A person's Home tab (views.publish). The latest publish wins and commands of one person
        come in order (their lane), so a redelivery publishes the same view again at worst; one
        this worker has already published for this command is not published twice."""
        if self.slack.home_published(command.user) == command.command_id:
            return Outcome("already_done", detail="home")
        await self.slack.publish_home(command.user, command.view, command.command_id)
        return Outcome("done", detail="home")

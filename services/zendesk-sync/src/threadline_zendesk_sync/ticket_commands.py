"""The commands that write tickets: create (and follow up), comment, status, priority.

Each looks before it writes (the ticket's external_id, the comment's audit metadata) so that a
redelivered command finds its effect instead of repeating it, then says what it did in the
thread through a post that is looked for the same way.
"""

from __future__ import annotations

import logging

import msgspec

from threadline_common import confirmation, from_slack
from threadline_common.models import SyncResultV4
from threadline_common.models.generated.commands_v4 import (
    SlackPerson,
    ZendeskAddComment,
    ZendeskCreateFollowup,
    ZendeskSetPriority,
    ZendeskSetStatus,
)
from threadline_zendesk_sync.file_transfer import FileTransfer
from threadline_zendesk_sync.plan import attachments, outcomes, slack_posts, zendesk_requests
from threadline_zendesk_sync.plan.failures import ThreadGone
from threadline_zendesk_sync.plan.outcomes import Outcome
from threadline_zendesk_sync.plan.zendesk_requests import NewTicketCommand
from threadline_zendesk_sync.settings import ZendeskSyncSettings
from threadline_zendesk_sync.slack_poster import Slack
from threadline_zendesk_sync.zendesk_client import Zendesk

log = logging.getLogger(__name__)


class TicketCommands:
    def __init__(self, settings: ZendeskSyncSettings, zendesk: Zendesk, slack: Slack, files: FileTransfer) -> None:
        self.settings = settings
        self.zendesk = zendesk
        self.slack = slack
        self.files = files

    # --- Slack text for Zendesk, with people named --------------------------------------------

    async def plain(self, text: str) -> str:
        """Slack mrkdwn with mentions named, for Zendesk."""
        return from_slack.to_zendesk(text, await self.slack.names(from_slack.mentioned_users(text)))

    async def subject(self, text: str) -> str:
        """A ticket subject from the router's (or a message's) text, with people named."""
        return from_slack.subject(text, await self.slack.names(from_slack.mentioned_users(text)))

    async def named(self, note: str) -> str:
        """A note the router wrote, with people's names where it has their ids."""
        return zendesk_requests.name_people(note, await self.slack.names(zendesk_requests.note_people(note)))

    # --- commands -----------------------------------------------------------------------------

    async def create_ticket(self, command: NewTicketCommand) -> Outcome:
        """zendesk.create_ticket and zendesk.create_followup: the ticket, then its link in the thread."""
        ticket_id = await self.zendesk.find_ticket(command.external_id)
        created = ticket_id is None
        left: list[str] = []
        if ticket_id is None:
            ticket_id, left = await self._new_ticket(command)
            log.info("created ticket %s", ticket_id)
        url = self.settings.ticket_url(ticket_id)
        results = [outcomes.result("ticket_created", command, ticket_id=ticket_id, ticket_url=url)]
        followup_of = command.via_followup_source_id if isinstance(command, ZendeskCreateFollowup) else None
        # The confirmation with its buttons, rendered as the router renders it after a press.
        shown = confirmation.Confirmation(command.conversation_id, ticket_id, url, followup_of)
        text = confirmation.text(shown)
        announce = f"announce:{command.command_id}"
        try:
            _, posted = await self.slack.post_once(
                announce,
                command.slack_channel_id,
                command.slack_thread_ts,
                text,
                slack_posts.post_metadata(announce, ticket_id=ticket_id),
                since=slack_posts.look_back_from(command),
                blocks=confirmation.blocks(shown),
            )
            await self.files_left(command, command.slack_channel_id, command.slack_thread_ts, left)
        except ThreadGone as exc:
            # The question was asked, so its ticket stands (made from the event's own text); the
            # thread to announce it in is gone, and the router tells the ticket so.
            posted = False
            results.append(
                outcomes.result("thread_gone", command, ticket_id=ticket_id, ticket_url=url, reason=str(exc))
            )
        return Outcome("done" if created or posted else "already_done", results, f"ticket {ticket_id}")

    async def files_left(
        self, command: NewTicketCommand | ZendeskAddComment, channel: str, thread_ts: str | None, notes: list[str]
    ) -> None:
        """Tell the thread which files stayed in Slack (too large, or not downloadable)."""
        if notes and thread_ts:
            command_id = f"files:{command.command_id}"
            text = attachments.files_left_text(notes, self.settings.max_file_bytes)
            await self.slack.post_once(
                command_id,
                channel,
                thread_ts,
                text,
                slack_posts.post_metadata(command_id),
                since=slack_posts.look_back_from(command),
            )

    async def _new_ticket(self, command: NewTicketCommand) -> tuple[int, list[str]]:
        if command.fetch_message:
            command = await self._with_message(command)
        given = command.requester
        requester = await self.slack.person(given.slack_user_id, given.name or None, given.email or None)
        requester_id = await self.zendesk.user_id(requester)
        carry, notes = attachments.split_files(command.files or [], self.settings.max_file_bytes)
        uploads, failed = await self.files.carry(carry)
        opened_by = None
        if command.opened_by and command.opened_by != requester.slack_user_id:
            opened_by = (await self.slack.person(command.opened_by)).name
        body = zendesk_requests.ticket_request(
            command,
            body=await self.plain(command.body),
            requester_id=requester_id,
            requester=requester,
            permalink=None
            if zendesk_requests.private_request(command)
            else command.permalink or await self.slack.permalink(command.slack_channel_id, command.slack_thread_ts),
            uploads=uploads,
            file_notes=notes + failed,
            opened_by=opened_by,
            subject=await self.subject(command.subject or command.body),
        )
        ticket_id = await self.zendesk.create_ticket(command.external_id, body, command.command_id)
        return ticket_id, notes + failed

    async def _with_message(self, command: NewTicketCommand) -> NewTicketCommand:
        """A ticket asked for with a reaction: its text and author come from the message."""
        message = await self.slack.message(command.slack_channel_id, command.slack_thread_ts)
        text = str(message.get("text") or "")
        return msgspec.structs.replace(
            command,
            body=text,
            subject=text,  # the router had no text to take it from
            requester=SlackPerson(slack_user_id=message.get("user") or message.get("bot_id")),
            files=command.files or attachments.message_files(message),
        )

    async def add_comment(self, command: ZendeskAddComment) -> Outcome:
        ticket_id = await self.zendesk.ticket_id_for(command.ticket_id, command.external_id)
        written = await self.zendesk.written_comment(ticket_id, command.command_id)
        if written is not None:
            return Outcome("already_done", self._comment_added(command, ticket_id, written), f"ticket {ticket_id}")
        # A closed ticket refuses the update with a 422 that says so: that is the check.
        given = command.author
        author = await self.slack.person(given.slack_user_id, given.name or None, given.email or None)
        author_id = await self.zendesk.user_id(author) if command.public else None
        carry, notes = attachments.split_files(command.files or [], self.settings.max_file_bytes)
        uploads, failed = await self.files.carry(carry)
        text = command.body if command.public else await self.named(command.body)
        body = zendesk_requests.comment_request(
            command,
            body=await self.plain(text),
            author_id=author_id,
            author=author,
            uploads=uploads,
            file_notes=notes + failed,
        )
        added = await self.zendesk.update_ticket(ticket_id, body)
        if command.public:
            thread = outcomes.thread_of(command.conversation_id)[2]
            await self.files_left(command, command.slack_channel_id, thread, notes + failed)
        return Outcome("done", self._comment_added(command, ticket_id, added), f"ticket {ticket_id}")

    @staticmethod
    def _comment_added(command: ZendeskAddComment, ticket_id: int, comment_id: int | None) -> list[SyncResultV4]:
        """Tell the router which comment is the copy: the comment webhook it causes is counted
        in Slack already, not a second time as an agent's or requester's comment."""
        if comment_id is None:
            return []
        return [outcomes.result("comment_added", command, ticket_id=ticket_id, comment_id=comment_id)]

    async def set_status(self, command: ZendeskSetStatus) -> Outcome:
        ticket_id = await self.zendesk.ticket_id_for(command.ticket_id, command.external_id)
        ticket = await self.zendesk.ticket(ticket_id)
        note = command.comment
        if note:
            # A replay after the ticket moved on (reopened by a reply) must not solve it again.
            if await self.zendesk.already_written(ticket_id, command.command_id):
                return Outcome("already_done", detail=f"ticket {ticket_id}")
            note = await self.named(note)
        body = zendesk_requests.status_request(command, ticket_id, str(ticket.status), note)
        if body is None:
            return Outcome("already_done", detail=f"ticket {ticket_id} is {ticket.status}")
        await self.zendesk.update_ticket(ticket_id, body)
        return Outcome("done", detail=f"ticket {ticket_id} {ticket.status} -> {command.status}")

    async def set_priority(self, command: ZendeskSetPriority) -> Outcome:
        ticket_id = await self.zendesk.ticket_id_for(command.ticket_id, command.external_id)
        ticket = await self.zendesk.ticket(ticket_id)
        note = command.comment
        body = None
        # A replay after an agent changed the priority again must not undo their change.
        if not await self.zendesk.already_written(ticket_id, command.command_id):
            body = zendesk_requests.priority_request(command, ticket.priority, await self.named(note) if note else None)
        if body is not None:
            await self.zendesk.update_ticket(ticket_id, body)
        posted = False
        if command.slack_channel_id and command.slack_thread_ts:
            notice = f"notice:{command.command_id}"
            _, posted = await self.slack.post_once(
                notice,
                command.slack_channel_id,
                command.slack_thread_ts,
                slack_posts.priority_text(ticket_id, command.priority),
                slack_posts.post_metadata(notice, ticket_id=ticket_id),
                since=slack_posts.look_back_from(command),
            )
        effect = "done" if body is not None or posted else "already_done"
        return Outcome(effect, detail=f"ticket {ticket_id} priority {command.priority}")

"""The commands of Threadline's interactive surface (buttons, shortcuts, modals): rewrite the
ticket confirmation in place, open a modal, assign a ticket to whoever pressed "Assign to me",
copy a message into a ticket, and open a request made with `/support open`.

Each looks before it writes, as every command does: chat.update writes the same message twice
(idempotent); an assignment already made is said, not written; a copied message is found by its
command id in the ticket's audit metadata; the request's post by its command id in its metadata,
and its ticket by the new thread's external_id. Answers to the person who acted go through the
interaction's response_url (ephemeral; Slack keeps no trace of them to look for, so a
redelivered command may answer twice) or, without one, as an ephemeral message in the channel.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

from msgspec.structs import replace
from slack_sdk.models.blocks import ActionsBlock, ButtonElement, MarkdownTextObject, SectionBlock

from threadline_common.models.generated.commands_v4 import (
    SlackOpenView,
    SlackUpdateMessage,
    ZendeskAddComment,
    ZendeskAssignToSlackUser,
    ZendeskCopyMessage,
    ZendeskCreateTicket,
    ZendeskOpenRequest,
)
from threadline_zendesk_sync.plan import outcomes, slack_posts, zendesk_requests
from threadline_zendesk_sync.plan.failures import PermanentError, ThreadGone
from threadline_zendesk_sync.plan.outcomes import Outcome
from threadline_zendesk_sync.plan.ticket_answers import Access
from threadline_zendesk_sync.settings import ZendeskSyncSettings
from threadline_zendesk_sync.slack_poster import Slack
from threadline_zendesk_sync.ticket_commands import TicketCommands
from threadline_zendesk_sync.zendesk_client import NotFound, Zendesk

# views.open's answers for a trigger_id that is older than Slack's 3 seconds, or already used.
EXPIRED_TRIGGER = ("expired_trigger_id", "invalid_trigger_id", "trigger_exchanged")


def _url(value: object) -> str | None:
    """A command's optional response_url (absent reads as none)."""
    return value if isinstance(value, str) and value else None


# (ticket, Slack user, the channel of the ticket's thread or None) -> whether they may see it.
AccessCheck: TypeAlias = Callable[[dict[str, Any], str, str | None], Awaitable[Access]]


class InteractiveCommands:
    def __init__(
        self,
        settings: ZendeskSyncSettings,
        zendesk: Zendesk,
        slack: Slack,
        tickets: TicketCommands,
        access: AccessCheck,
    ) -> None:
        self.settings = settings
        self.zendesk = zendesk
        self.slack = slack
        self.tickets = tickets
        self.access = access  # who may see a ticket (follow_commands: agents, requester and CCs, the thread's channel)

    # --- answering the person who acted -------------------------------------------------------

    async def respond(self, response_url: str, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        """One ephemeral answer through a response_url (an expired or used-up one is logged)."""
        await self.slack.respond(
            response_url, text=text, blocks=blocks, response_type="ephemeral", replace_original=False
        )

    async def tell(self, response_url: str | None, channel: str | None, user: str, text: str) -> None:
        if response_url:
            await self.respond(response_url, text)
        elif channel:
            await self.slack.post_ephemeral(channel, user, text, None)

    # --- commands -----------------------------------------------------------------------------

    async def update_message(self, command: SlackUpdateMessage) -> Outcome:
        """chat.update: the same text and blocks twice show the same message."""
        args: dict[str, Any] = {"channel": command.channel_id, "ts": command.ts, "text": command.text}
        if command.blocks:
            args["blocks"] = command.blocks
        try:
            await self.slack.call(self.slack.client.chat_update, **args)
        except ThreadGone:
            return Outcome("skipped", detail="the message is gone")
        return Outcome("done", detail=f"{command.channel_id}:{command.ts}")

    async def open_view(self, command: SlackOpenView) -> Outcome:
        """views.open; when the trigger expired on its way here (it lives 3 seconds), the person
        gets a button whose fresh press opens the modal again."""
        try:
            await self.slack.call(self.slack.client.views_open, trigger_id=command.trigger_id, view=command.view)
        except PermanentError as exc:
            if not any(code in str(exc) for code in EXPIRED_TRIGGER):
                raise
            retry = command.retry_action or None
            if not command.response_url or not retry:
                return Outcome("skipped", detail="the trigger expired and there is no way to offer the form again")
            text = "Slack took too long to open the form. Press the button to open it."
            button = ButtonElement(
                text=str(retry.get("text") or "Open the form"),
                action_id=str(retry["action_id"]),
                value=str(retry["value"]),
                style="primary",
            )
            blocks = [SectionBlock(text=MarkdownTextObject(text=text)), ActionsBlock(elements=[button])]
            await self.respond(command.response_url, text, [b.to_dict() for b in blocks])
            return Outcome("done", detail="trigger expired: offered the form again")
        return Outcome("done", detail=str(command.view.get("callback_id") or "modal"))

    async def assign_to_slack_user(self, command: ZendeskAssignToSlackUser) -> Outcome:
        """Assign to me: the Slack user's email names the Zendesk agent."""
        ticket_id = await self.zendesk.ticket_id_for(command.ticket_id, command.external_id)
        person = await self.slack.person(command.slack_user_id)
        say = self._teller(
            _url(command.response_url), outcomes.thread_of(command.conversation_id)[1], command.slack_user_id
        )
        if not person.email:
            await say("Slack does not share your email with Threadline, so no Zendesk agent can be found for you.")
            return Outcome("skipped", detail=f"no email for {command.slack_user_id}")
        agent = await self.zendesk.agent_by_email(person.email)
        if agent is None:
            await say(f"No Zendesk agent has the email {person.email}.")
            return Outcome("skipped", detail="no agent with that email")
        ticket = await self.zendesk.ticket(ticket_id)
        body = zendesk_requests.assign_request(command.command_id, ticket.assignee_id, int(agent["id"]))
        if body is None:
            await say(f"Ticket #{ticket_id} is already assigned to you.")
            return Outcome("already_done", detail=f"ticket {ticket_id}")
        await self.zendesk.update_ticket(ticket_id, body)
        await say(f"Ticket #{ticket_id} is assigned to you.")
        return Outcome("done", detail=f"ticket {ticket_id} -> agent {agent['id']}")

    def _teller(self, response_url: str | None, channel: str | None, user: str) -> Any:
        async def say(text: str) -> None:
            await self.tell(response_url, channel, user, text)

        return say

    async def copy_message(self, command: ZendeskCopyMessage) -> Outcome:
        """Add to ticket: the message, as its author wrote it, with its permalink."""
        ticket_id = command.ticket_id
        say = self._teller(_url(command.response_url), command.slack_channel_id, command.user)
        try:
            ticket = (await self.zendesk.ticket(ticket_id)).to_dict()
        except NotFound:
            await say(f"There is no ticket #{ticket_id} (or Threadline cannot see it): nothing was added.")
            return Outcome("skipped", detail=f"no ticket {ticket_id}")
        # Whoever may write on a ticket may see it: the same rule as following it.
        if not (await self.access(ticket, command.user, None)).allowed:
            await say(f"You may not see ticket #{ticket_id}: nothing was added.")
            return Outcome("skipped", detail=f"{command.user} may not see ticket {ticket_id}")
        permalink = await self.slack.permalink(command.slack_channel_id, command.slack_ts)
        body = command.body + (f"\n\n—\nFrom Slack: {permalink}" if permalink else "")
        comment = ZendeskAddComment(
            schema_version=1,
            command_id=command.command_id,
            conversation_id=command.conversation_id,
            issued_at=command.issued_at,
            cause=command.cause,
            external_id=f"ticket:{ticket_id}",
            ticket_id=ticket_id,
            body=body,
            public=True,
            author=command.author,
            slack_channel_id=command.slack_channel_id,
            slack_ts=command.slack_ts,
            files=[],
            reopen=False,
        )
        outcome = await self.tickets.add_comment(comment)
        url = self.settings.ticket_url(ticket_id)
        if outcome.effect == "already_done":
            await say(f"That message is already on ticket <{url}|#{ticket_id}>.")
        else:
            await say(f"Added the message to ticket <{url}|#{ticket_id}>.")
        return outcome

    async def open_request(self, command: ZendeskOpenRequest) -> Outcome:
        """/support open: the request posted in the channel as Threadline (once), then its ticket
        on that new thread (once: its external_id is the thread's conversation)."""
        team_id = await self.slack.team()
        channel = command.channel_id
        ts, posted = await self.slack.post_once(
            command.command_id,
            channel,
            None,
            command.request_text,
            slack_posts.post_metadata(command.command_id),
            since=slack_posts.look_back_from(command),
        )
        key = outcomes.thread_key(team_id, channel, ts)
        create = ZendeskCreateTicket(
            schema_version=3,
            command_id=f"create:{key}",
            conversation_id=key,
            issued_at=command.issued_at,
            cause=command.cause,
            external_id=key,
            subject=command.subject,
            body=command.body,
            requester=command.requester,
            slack_channel_id=channel,
            slack_thread_ts=ts,
            files=[],
            group_id=command.group_id,
            brand_id=command.brand_id,
            ticket_form_id=command.ticket_form_id,
            priority=command.priority,
            ticket_type=command.ticket_type,
            tags=command.tags,
            custom_fields=command.custom_fields,
        )
        outcome = await self.tickets.create_ticket(create)
        # The results name the new thread's conversation, and where the request came from: the
        # router makes the thread's row from them.
        outcome.results = [
            replace(
                r,
                command_id=command.command_id,
                command_type=outcomes.command_type(command),
                moved_from=command.conversation_id,
            )
            for r in outcome.results
        ]
        if posted and outcome.effect == "already_done":
            outcome.effect = "done"
        return outcome

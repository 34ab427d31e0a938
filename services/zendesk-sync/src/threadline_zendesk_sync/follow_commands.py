"""The commands that answer people about tickets: `/support status`, Show latest comment, a
request to follow (checked before the router stores it), and the direct messages followers get.

Answers go through the interaction's response_url (slack_sdk's webhook client), which keeps no
trace to look for: a redelivered command answers again. A direct message is looked for by its
command id in the DM's message metadata before it is posted, so a retry posts it once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from threadline_common import to_slack
from threadline_common.models.generated.commands_v4 import (
    ReportAnswer,
    SlackDirectMessage,
    ZendeskCheckFollower,
    ZendeskDescribeTicket,
)
from threadline_common.models.generated.sync_results_v4 import Choices, Follower
from threadline_zendesk_sync import reporter_client
from threadline_zendesk_sync.plan import outcomes, people, slack_posts, ticket_answers
from threadline_zendesk_sync.plan.failures import NotFound, PermanentError
from threadline_zendesk_sync.plan.outcomes import Outcome
from threadline_zendesk_sync.plan.ticket_answers import Access
from threadline_zendesk_sync.reporter_client import UnknownReportChannel
from threadline_zendesk_sync.settings import ZendeskSyncSettings
from threadline_zendesk_sync.slack_poster import Slack
from threadline_zendesk_sync.zendesk_client import Zendesk

log = logging.getLogger(__name__)


class FollowCommands:
    def __init__(self, settings: ZendeskSyncSettings, zendesk: Zendesk, slack: Slack) -> None:
        self.settings = settings
        self.zendesk = zendesk
        self.slack = slack
        self.reporter = reporter_client.from_settings(settings)

    # --- who may see a ticket --------------------------------------------------------------------

    async def access(self, ticket: dict[str, Any], user: str, thread_channel_id: str | None) -> Access:
        channel = thread_channel_id or ticket_answers.thread_channel(ticket.get("external_id"))
        person = await self.slack.person(user)
        zendesk_user = await self.zendesk.user_by_email(person.email) if person.email else None
        member = await self.slack.is_member(channel, user) if channel else None
        return ticket_answers.access(ticket, zendesk_user, channel, member)

    async def _ticket(self, ticket_id: int) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = (await self.zendesk.ticket(ticket_id)).to_dict()
        except NotFound:
            return None
        return found

    async def _tell(self, command: ZendeskDescribeTicket | ZendeskCheckFollower, text: str) -> bool:
        """Answer the person: through response_url, or by DM when the interaction had none (a
        button in the App Home), looked for by the command's id before it is posted."""
        if command.response_url:
            return await self.slack.respond(
                command.response_url, text=text, response_type="ephemeral", replace_original=False
            )
        await self.slack.direct_message(
            command.command_id, command.user, text, None, since=slack_posts.look_back_from(command)
        )
        return True

    async def _names(self, comments: Sequence[Mapping[str, Any]]) -> tuple[dict[int, str], set[int]]:
        """The comments' authors: id -> name, and which are agents."""
        names: dict[int, str] = {}
        staff: set[int] = set()
        for author in {int(c.get("author_id") or 0) for c in comments} - {0}:
            user = await self.zendesk.user(author)
            names[author] = str((user or {}).get("name") or "someone")
            if user is not None and people.is_agent(user):
                staff.add(author)
        return names, staff

    # --- the commands ------------------------------------------------------------------------------

    async def describe_ticket(self, command: ZendeskDescribeTicket) -> Outcome:
        async with self._or_say_why(command, f"ticket #{command.ticket_id}"):
            return await self._describe_ticket(command)

    async def check_follower(self, command: ZendeskCheckFollower) -> Outcome:
        async with self._or_say_why(command, f"ticket #{command.ticket_id}"):
            return await self._check_follower(command)

    async def report(self, command: ReportAnswer) -> Outcome:
        async with self._or_say_why(command, f"the {command.kind} report"):
            return await self._report(command)

    @contextlib.asynccontextmanager
    async def _or_say_why(
        self, command: ZendeskDescribeTicket | ZendeskCheckFollower | ReportAnswer, what: str
    ) -> AsyncIterator[None]:
        """A command that fails for good tells the person so, in one line, before it is
        dead-lettered (a transient failure is retried: the answer waits for it)."""
        try:
            yield
        except PermanentError as exc:
            text = f"Threadline could not get {what} just now: {to_slack.escape(str(exc)[:300])}"
            with contextlib.suppress(Exception):  # the failure is reported anyway
                if isinstance(command, ReportAnswer):
                    await self.slack.respond(command.response_url, text=text, response_type="ephemeral")
                else:
                    await self._tell(command, text)
            raise

    async def _describe_ticket(self, command: ZendeskDescribeTicket) -> Outcome:
        ticket_id = command.ticket_id
        ticket = await self._ticket(ticket_id)
        if ticket is None:
            text = ticket_answers.not_found_text(ticket_id)
            await self._tell(command, text)
            return Outcome("done", detail=f"no ticket {ticket_id}")
        seen = await self.access(ticket, command.user, command.thread_channel_id or None)
        if not seen.allowed:
            text = ticket_answers.refused_text(ticket_id)
            await self._tell(command, text)
            return Outcome("done", detail=f"ticket {ticket_id} refused: {seen.why}")
        comments = ticket_answers.public_comments(await self.zendesk.comments(ticket_id, refresh=True))
        names, staff = await self._names(comments[-20:])
        url = self.settings.ticket_url(ticket_id)
        now = dt.datetime.now(dt.UTC)
        if command.show == "latest_comment":
            detail = str(command.detail or "full") if seen.sees_thread else "summary"
            chars = command.chars if isinstance(command.chars, int) else None
            text = ticket_answers.latest_comment_text(ticket, url, comments, names, detail, chars, now)
        else:
            assignee_id = ticket.get("assignee_id")
            assignee = await self.zendesk.user(int(assignee_id)) if assignee_id else None
            name = str(assignee.get("name")) if assignee else None
            text = ticket_answers.status_text(ticket, url, name, comments, names, staff, now, seen.sees_thread)
        answered = await self._tell(command, text)
        return Outcome("done" if answered else "skipped", detail=f"{command.show} of ticket {ticket_id}")

    async def _check_follower(self, command: ZendeskCheckFollower) -> Outcome:
        ticket_id = command.ticket_id
        ticket = await self._ticket(ticket_id)
        if ticket is None:
            await self._tell(command, ticket_answers.not_found_text(ticket_id))
            return Outcome("done", detail=f"no ticket {ticket_id}")
        seen = await self.access(ticket, command.user, command.thread_channel_id or None)
        if not seen.allowed:
            await self._tell(command, ticket_answers.refused_text(ticket_id))
            return Outcome("done", detail=f"{command.user} may not follow ticket {ticket_id}: {seen.why}")
        choices = command.choices
        chars = choices.chars if isinstance(choices.chars, int) else None
        what = ticket_answers.describe_choices(choices.what, choices.detail, chars, seen.sees_thread)
        url = self.settings.ticket_url(ticket_id)
        await self._tell(command, ticket_answers.followed_text(ticket_id, url, what, seen.sees_thread))
        follower = Follower(
            team_id=command.team_id,
            user=command.user,
            sees_thread=seen.sees_thread,
            choices=Choices(what=list(choices.what), detail=choices.detail, chars=chars),
        )
        channel = command.thread_channel_id or ticket_answers.thread_channel(ticket.get("external_id"))
        result = outcomes.result(
            "follower_checked", command, ticket_id=ticket_id, ticket_url=url, channel_id=channel, follower=follower
        )
        return Outcome("done", [result], detail=f"{command.user} follows ticket {ticket_id} ({seen.why})")

    async def direct_message(self, command: SlackDirectMessage) -> Outcome:
        _, posted = await self.slack.direct_message(
            command.command_id,
            command.user,
            command.text,
            command.blocks or None,
            since=slack_posts.look_back_from(command),
        )
        return Outcome("done" if posted else "already_done", detail=command.purpose)

    async def _report(self, command: ReportAnswer) -> Outcome:
        """`/support report`: the channel's report, to a Zendesk agent or a member of the channel
        its reports go to; anyone else hears why not."""
        where = command.report_channel_id or command.channel_id
        person = await self.slack.person(command.user)
        zendesk_user = await self.zendesk.user_by_email(person.email) if person.email else None
        allowed = bool(zendesk_user and people.is_agent(zendesk_user)) or await self.slack.is_member(
            where, command.user
        )
        if not allowed:
            text = ticket_answers.report_refused_text(command.channel_id, where)
            await self.slack.respond(command.response_url, text=text, response_type="ephemeral")
            return Outcome("done", detail=f"{command.user} may not see the reports of {command.channel_id}")
        if self.reporter is None:
            text = "Reports are not available from Slack here (Threadline's reporter API is not configured)."
            await self.slack.respond(command.response_url, text=text, response_type="ephemeral")
            return Outcome("done", detail="no reporter API")
        try:
            found = await self.reporter.report(command.kind, command.channel_id, command.date)
        except UnknownReportChannel:
            text = f"Threadline has no {command.kind} report for <#{command.channel_id}>."
            await self.slack.respond(command.response_url, text=text, response_type="ephemeral")
            return Outcome("done", detail="not a reported channel")
        text = str(found.get("text") or f"The {command.kind} report of <#{command.channel_id}>")
        blocks = found.get("blocks") if isinstance(found.get("blocks"), list) else None
        answered = await self.slack.respond(command.response_url, text=text[:3000], blocks=blocks,
                                            response_type="ephemeral")  # fmt: skip
        return Outcome("done" if answered else "skipped", detail=f"{command.kind} report of {command.channel_id}")

"""The effects of commands on Zendesk and Slack, each done once: the clients, made once per
worker, and the command each variant of the contract names.

Before any write, a command checks whether it already happened, using what the write left
behind: the ticket's external_id, the comment's audit metadata, the Slack message's metadata.
The clients' caches only spare API calls and are dropped on every rebalance.

- `zendesk_client.Zendesk`: tickets, comments, users, uploads, within the account's budget;
- `slack_poster.Slack`: posts, reactions, ephemeral messages, permalinks, joins, people;
- `file_transfer.FileTransfer`: Slack files carried to Zendesk;
- `on_call`: PagerDuty, and the on-call notice;
- `ticket_commands`, `thread_commands`, `interactive_commands` (buttons, shortcuts, modals):
  what each command does with them;
- `answer_commands`: automatic answers to new questions, and the solve their feedback asks for;
- `follow_commands`: answers about tickets (status, latest comment, a follow, a report) and
  followers' DMs.
"""

from __future__ import annotations

from threadline_common.installations import TokenResolver, team_of_conversation
from threadline_common.models import CommandV4
from threadline_common.models.generated.commands_v4 import (
    OnCallAnswer,
    OnCallNotify,
    ReportAnswer,
    SlackAddReaction,
    SlackDirectMessage,
    SlackOpenThread,
    SlackOpenView,
    SlackPostAnswers,
    SlackPostEphemeral,
    SlackPostMessage,
    SlackPublishHome,
    SlackRespond,
    SlackUpdateMessage,
    ZendeskAddComment,
    ZendeskAnswerSolved,
    ZendeskAssignToSlackUser,
    ZendeskCheckFollower,
    ZendeskCopyMessage,
    ZendeskCreateFollowup,
    ZendeskCreateTicket,
    ZendeskDescribeTicket,
    ZendeskOpenRequest,
    ZendeskSetPriority,
    ZendeskSetStatus,
)
from threadline_zendesk_sync.answer_commands import AnswerCommands
from threadline_zendesk_sync.budgets import Budgets
from threadline_zendesk_sync.file_transfer import FileTransfer
from threadline_zendesk_sync.follow_commands import FollowCommands
from threadline_zendesk_sync.interactive_commands import InteractiveCommands
from threadline_zendesk_sync.on_call import OnCall, PagerDuty
from threadline_zendesk_sync.plan.failures import PermanentError
from threadline_zendesk_sync.plan.outcomes import Outcome
from threadline_zendesk_sync.settings import ZendeskSyncSettings
from threadline_zendesk_sync.slack_poster import ACTING_ENTERPRISE, ACTING_TEAM, Slack
from threadline_zendesk_sync.thread_commands import ThreadCommands
from threadline_zendesk_sync.ticket_commands import TicketCommands
from threadline_zendesk_sync.zendesk_client import Zendesk


class Effects:
    def __init__(
        self, settings: ZendeskSyncSettings, budgets: Budgets | None = None, tokens: TokenResolver | None = None
    ) -> None:
        self.settings = settings
        self.budgets = budgets or Budgets(settings.zendesk_budget_per_minute, settings.slack_channel_interval_seconds)
        self.zendesk = Zendesk(settings, self.budgets)
        self.slack = Slack(settings, self.budgets, tokens)
        self.files = FileTransfer(settings, self.zendesk, self.slack.token)
        pagerduty = (
            PagerDuty(settings.pagerduty_api_url, settings.pagerduty_api_token.get_secret_value())
            if settings.pagerduty_api_token is not None
            else None
        )
        self.tickets = TicketCommands(settings, self.zendesk, self.slack, self.files)
        self.threads = ThreadCommands(settings, self.zendesk, self.slack)
        self.on_call = OnCall(pagerduty, self.zendesk, self.slack)
        self.follows = FollowCommands(settings, self.zendesk, self.slack)
        self.answers = AnswerCommands(self.zendesk, self.slack, self.follows.reporter)
        self.interactive = InteractiveCommands(settings, self.zendesk, self.slack, self.tickets, self.follows.access)

    def reset_caches(self) -> None:
        self.zendesk.reset_caches()
        self.slack.reset_caches()
        self.files.reset_caches()

    async def close(self) -> None:
        await self.slack.close()

    async def perform(
        self, command: CommandV4, enterprise_id: str | None = None, team_id: str | None = None
    ) -> Outcome:
        """`enterprise_id`: the organisation the command's Slack request named (its header);
        `team_id`: the workspace the router named (its header) where the key names none."""
        team = team_of_conversation(command.conversation_id) or team_id
        if team is None and isinstance(command, ZendeskCheckFollower):
            team = command.team_id
        channel = getattr(command, "channel_id", None)
        if team is None and isinstance(channel, str) and channel and self.slack.tokens.several_workspaces:
            # A command in a channel whose key names no workspace (a hand-over announced from
            # `rotation:<channel>`, an emailed ticket's thread opened from `zd:<ticket>`): the
            # channels file does not say whose a channel is, and such a channel may have seen no
            # conversation yet, so the workspace whose token Slack shows it to is found (and kept).
            workspace = await self.slack.workspace_of_channel(channel)
            if workspace is not None:
                team, enterprise_id = workspace[0], enterprise_id or workspace[1]
        # Remembered: a later command of this workspace with no Slack request behind it (an
        # agent's comment) finds the org-wide install too.
        self.slack.tokens.learn(team, enterprise_id)
        acting = ACTING_TEAM.set(team)
        organisation = ACTING_ENTERPRISE.set(enterprise_id)
        try:
            return await self._perform(command)
        finally:
            ACTING_ENTERPRISE.reset(organisation)
            ACTING_TEAM.reset(acting)

    async def _perform(self, command: CommandV4) -> Outcome:
        match command:
            case ZendeskCreateTicket() | ZendeskCreateFollowup():
                return await self.tickets.create_ticket(command)
            case ZendeskAddComment():
                return await self.tickets.add_comment(command)
            case ZendeskSetStatus():
                return await self.tickets.set_status(command)
            case ZendeskSetPriority():
                return await self.tickets.set_priority(command)
            case SlackPostMessage():
                return await self.threads.post_message(command)
            case SlackAddReaction():
                return await self.threads.add_reaction(command)
            case SlackOpenThread():
                return await self.threads.open_thread(command)
            case SlackPostEphemeral():
                return await self.threads.post_ephemeral(command)
            case SlackRespond():
                return await self.threads.respond(command)
            case SlackPublishHome():
                return await self.threads.publish_home(command)
            case OnCallNotify():
                return await self.on_call.notify(command)
            # Slash commands and following tickets (follow_commands).
            case ZendeskDescribeTicket():
                return await self.follows.describe_ticket(command)
            case ZendeskCheckFollower():
                return await self.follows.check_follower(command)
            case SlackDirectMessage():
                return await self.follows.direct_message(command)
            case OnCallAnswer():
                return await self.on_call.answer(command)
            case ReportAnswer():
                return await self.follows.report(command)
            # Buttons, shortcuts and modals
            case SlackUpdateMessage():
                return await self.interactive.update_message(command)
            case SlackOpenView():
                return await self.interactive.open_view(command)
            case ZendeskAssignToSlackUser():
                return await self.interactive.assign_to_slack_user(command)
            case ZendeskCopyMessage():
                return await self.interactive.copy_message(command)
            case ZendeskOpenRequest():
                return await self.interactive.open_request(command)
            # Automatic answers (answer_commands)
            case SlackPostAnswers():
                return await self.answers.post_answers(command)
            case ZendeskAnswerSolved():
                return await self.answers.answer_solved(command)
        raise PermanentError(f"unknown command {type(command).__name__}")

"""Automatic answers: the offer in a new question's thread (slack.post_answers) and the solve the
requester's "This solved it" asks for (zendesk.answer_solved), each done once.

The offer is looked for by its command id in the thread's messages' metadata before anything is
searched or posted, so a retry after a crash neither posts twice nor searches again. The
searches are best-effort (`suggestions`: [] on any failure); when no rule matched and they found
nothing, nothing is posted, and the outcome says so.
"""

from __future__ import annotations

from typing import Any

from threadline_common import answers
from threadline_common.models import Activity, ActivityAnswer, Actor
from threadline_common.models.generated.commands_v4 import (
    SlackMessageMetadata,
    SlackPostAnswers,
    ZendeskAnswerSolved,
)
from threadline_common.times import slack_ts_time
from threadline_zendesk_sync import suggestions
from threadline_zendesk_sync.plan import slack_posts, zendesk_requests
from threadline_zendesk_sync.plan.outcomes import Outcome
from threadline_zendesk_sync.reporter_client import Reporter
from threadline_zendesk_sync.slack_poster import Slack
from threadline_zendesk_sync.zendesk_client import Zendesk


class AnswerCommands:
    def __init__(self, zendesk: Zendesk, slack: Slack, reporter: Reporter | None) -> None:
        self.zendesk = zendesk
        self.slack = slack
        self.reporter = reporter

    async def post_answers(self, command: SlackPostAnswers) -> Outcome:
        channel, thread_ts, since = command.channel_id, command.thread_ts, slack_posts.look_back_from(command)
        posted_ts = (await self.slack.posts(channel, thread_ts, since)).get(command.command_id)
        if posted_ts is not None:
            # Offered before (a retry after a crash): no second search; the reporter hears the
            # same record again, with what the post itself says it offered.
            shown = await self.slack.reply_metadata(channel, thread_ts, posted_ts)
            counts = {
                "rules": [r.id for r in command.rules],
                "similar": int(shown.get("similar") or 0),
                "articles": int(shown.get("articles") or 0),
            }
            return Outcome(
                "already_done", detail="answers already offered", activity=[offered(command, posted_ts, counts)]
            )
        similar = (
            await suggestions.similar_solved(
                self.reporter,
                team_id=command.team_id,
                channel=channel,
                text=command.question,
                exclude_conversation=command.conversation_id,
            )
            if command.similar_solved
            else []
        )
        articles = (
            await suggestions.help_center_articles(
                self.zendesk, text=command.question, locale=command.help_center.locale or None
            )
            if command.help_center is not None
            else []
        )
        said = [r.answer for r in command.rules]
        if not said and not similar and not articles:
            return Outcome("skipped", detail="nothing to offer: no rule matched and the searches found nothing")
        shown_similar = [answers.Found(s.title, s.url, s.detail) for s in similar]
        shown_articles = [answers.Found(s.title, s.url, s.detail) for s in articles]
        counts = {
            "rules": [r.id for r in command.rules],
            "similar": len(shown_similar[: answers.SUGGESTIONS_SHOWN]),
            "articles": len(shown_articles[: answers.SUGGESTIONS_SHOWN]),
        }
        metadata = SlackMessageMetadata(event_type=answers.EVENT_TYPE, event_payload=counts)
        ts, posted = await self.slack.post_once(
            command.command_id,
            channel,
            thread_ts,
            answers.text(said, shown_similar, shown_articles),
            slack_posts.post_metadata(command.command_id, metadata),
            since=since,
            blocks=answers.blocks(command.conversation_id, said, shown_similar, shown_articles),
        )
        detail = f"{len(said)} rule answers, {counts['similar']} similar, {counts['articles']} articles"
        return Outcome("done" if posted else "already_done", detail=detail, activity=[offered(command, ts, counts)])

    async def answer_solved(self, command: ZendeskAnswerSolved) -> Outcome:
        ticket_id = await self.zendesk.ticket_id_for(command.ticket_id, command.external_id)
        # A replay after the ticket moved on (reopened by a reply) must not solve it again.
        if await self.zendesk.already_written(ticket_id, command.command_id):
            return Outcome("already_done", detail=f"ticket {ticket_id}")
        ticket = await self.zendesk.ticket(ticket_id)
        who = command.author.slack_user_id
        name = (await self.slack.names([who])).get(who, who) if who else "the requester"
        rules = ", ".join(command.rule_ids) or "suggestions only"
        note = f"Solved from Slack by {name}: the automatic answer solved it (rules: {rules})."
        body = zendesk_requests.answer_solved_request(command, ticket_id, str(ticket.status), note)
        await self.zendesk.update_ticket(ticket_id, body)
        return Outcome("done", detail=f"ticket {ticket_id} {ticket.status} -> solved by an answer")


def offered(command: SlackPostAnswers, ts: str, counts: dict[str, Any]) -> Activity:
    """The reporter's record of the offer (threadline.activity v2): which rules, how many
    suggestions. Its id is the command's: a retry that finds the post reports the same record."""
    return Activity(
        schema_version=2,
        event_id=f"answer-offered:{command.command_id}",
        type="answer_offered",
        conversation_id=command.conversation_id,
        occurred_at=slack_ts_time(ts),
        channel_id=command.channel_id,
        thread_ts=command.thread_ts,
        ticket_id=None,  # the offer may come before the ticket; the conversation has it
        actor=Actor(id=None, role="bot"),
        source="slack",
        text=None,
        public=True,
        answer=ActivityAnswer(rule_ids=counts["rules"], similar=counts["similar"], articles=counts["articles"]),
    )

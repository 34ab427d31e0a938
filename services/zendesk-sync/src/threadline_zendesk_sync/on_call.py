"""Who is on call, from PagerDuty's REST API v2 (GET /oncalls, GET /users/{id}), named in the
thread (oncall.notify), and optionally the ticket assigned to the primary's Zendesk agent.

The post comes after the assignment and is looked for first, so a redelivered command that finds
it has done both.
"""

from __future__ import annotations

import asyncio
from typing import Any

import requests

from threadline_common import to_slack
from threadline_common.models.generated.commands_v4 import OnCallAnswer, OnCallNotify
from threadline_common.retry import TransientError
from threadline_zendesk_sync.plan import failures, slack_posts, zendesk_requests
from threadline_zendesk_sync.plan.failures import PermanentError
from threadline_zendesk_sync.plan.outcomes import Outcome
from threadline_zendesk_sync.slack_poster import Slack
from threadline_zendesk_sync.zendesk_client import Zendesk

ACCEPT = "application/vnd.pagerduty+json;version=2"


class PagerDuty:
    def __init__(self, api_url: str, token: str, timeout: float = 15.0) -> None:
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Token token={token}", "Accept": ACCEPT})

    async def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        def call() -> requests.Response:
            return self.session.get(f"{self.api_url}{path}", params=params, timeout=self.timeout)

        try:
            response = await asyncio.to_thread(call)
        except requests.RequestException as exc:
            raise TransientError(f"PagerDuty unreachable: {type(exc).__name__}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientError(f"PagerDuty answered {response.status_code}", failures.seconds(response.headers))
        if response.status_code != 200:
            raise PermanentError(
                f"PagerDuty answered {response.status_code}: {failures.pagerduty_reason(response.text)}"
            )
        body: dict[str, Any] = response.json()
        return body

    async def on_call(self, escalation_policy_id: str | None, schedule_id: str | None) -> list[dict[str, Any]]:
        """Everyone on call now for the policy or schedule, as full user objects, primary first."""
        params: dict[str, Any] = {"limit": 100, "time_zone": "UTC"}
        if escalation_policy_id:
            params["escalation_policy_ids[]"] = [escalation_policy_id]
        if schedule_id:
            params["schedule_ids[]"] = [schedule_id]
        oncalls = (await self.get("/oncalls", params))["oncalls"]
        people = []
        for user_id in slack_posts.on_call_order(oncalls):
            people.append((await self.get(f"/users/{user_id}"))["user"])
        return people


class OnCall:
    def __init__(self, pagerduty: PagerDuty | None, zendesk: Zendesk, slack: Slack) -> None:
        self.pagerduty = pagerduty
        self.zendesk = zendesk
        self.slack = slack

    async def assign_to(self, command: OnCallNotify, person: dict[str, Any]) -> str:
        """Assign the ticket to the Zendesk agent with the on-call person's email."""
        agent = await self.zendesk.agent_by_email(str(person.get("email") or ""))
        if agent is None:
            return f"no Zendesk agent has the email of {person.get('name')}"
        ticket_id = await self.zendesk.ticket_id_for(command.ticket_id, command.external_id)
        ticket = await self.zendesk.ticket(ticket_id)
        body = zendesk_requests.assign_request(command.command_id, ticket.assignee_id, int(agent["id"]))
        if body is None:
            return f"ticket {ticket_id} already assigned to {agent['id']}"
        await self.zendesk.update_ticket(ticket_id, body)
        return f"ticket {ticket_id} assigned to {agent['id']}"

    async def notify(self, command: OnCallNotify) -> Outcome:
        channel, thread_ts = command.channel_id, command.thread_ts
        if command.command_id in await self.slack.posts(channel, thread_ts, slack_posts.look_back_from(command)):
            return Outcome("already_done", detail=command.reason)  # the post comes after the assignment
        if self.pagerduty is None:
            raise PermanentError("PagerDuty is not configured (set THREADLINE_ZENDESK_SYNC_PAGERDUTY_API_TOKEN)")
        people = await self.pagerduty.on_call(command.escalation_policy_id or None, command.schedule_id or None)
        detail = f"{len(people)} on call"
        if command.assign and people:
            detail += "; " + await self.assign_to(command, people[0])
        names = [await self.slack.mention(p) for p in people[:2]]
        await self.slack.post_once(
            command.command_id,
            channel,
            thread_ts,
            slack_posts.on_call_text(command, names),
            slack_posts.post_metadata(command.command_id, reason=command.reason),
            since=slack_posts.look_back_from(command),
        )
        return Outcome("done", detail=detail)

    async def answer(self, command: OnCallAnswer) -> Outcome:
        """`/support oncall`: who is on call for the channel now, answered to the person who asked."""
        if self.pagerduty is None:
            text = "Threadline cannot ask PagerDuty who is on call here (it is not configured)."
            await self.slack.respond(command.response_url, text=text, response_type="ephemeral")
            return Outcome("done", detail="PagerDuty not configured")
        try:
            people = await self.pagerduty.on_call(command.escalation_policy_id or None, command.schedule_id or None)
        except PermanentError as exc:  # told in one line, then dead-lettered like any failure
            text = f"Threadline could not ask PagerDuty who is on call: {to_slack.escape(str(exc)[:300])}"
            await self.slack.respond(command.response_url, text=text, response_type="ephemeral")
            raise
        names = [await self.slack.mention(p) for p in people[:2]]
        text = slack_posts.on_call_answer_text(f"<#{command.channel_id}>", names)
        answered = await self.slack.respond(command.response_url, text=text, response_type="ephemeral")
        return Outcome("done" if answered else "skipped", detail=f"{len(people)} on call")

"""Who is on call, from PagerDuty's REST API v2 (GET /oncalls, GET /users/{id})."""

from __future__ import annotations

import asyncio
from typing import Any

import requests

from threadline_zendesk_sync import plan
from threadline_zendesk_sync.plan import PermanentError, TransientError

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
            raise TransientError(f"PagerDuty answered {response.status_code}", plan.seconds(response.headers))
        if response.status_code != 200:
            raise PermanentError(f"PagerDuty answered {response.status_code}: {plan.pagerduty_reason(response.text)}")
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
        for user_id in plan.on_call_order(oncalls):
            people.append((await self.get(f"/users/{user_id}"))["user"])
        return people

"""A PagerDuty account on localhost, for the few REST API v2 endpoints Threadline uses.

    GET /oncalls?escalation_policy_ids[]=P..&schedule_ids[]=P..&user_ids[]=P..&since=..&include[]=users
    GET /users/{id}

with PagerDuty's JSON shapes (references with `type`, `summary`, `self`, `html_url`; classic
offset pagination with `limit`, `offset`, `more`, `total`), token auth
(`Authorization: Token token=<key>`), and PagerDuty's error bodies
(`{"error": {"message", "code", "errors"}}`). Who is on call comes from a YAML seed: schedules
are one rotation each, escalation policies list levels whose targets are schedules or users.

    sandbox = PagerDutySandbox().start()
    httpx.get(f"{sandbox.base_url}/oncalls", params={"escalation_policy_ids[]": "PPOLSUP"},
              headers={"Authorization": f"Token token={sandbox.token}"})
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from threadline_sandbox.common import BackgroundServer, free_port

DEFAULT_SEED = Path(__file__).resolve().parent.parent / "fixtures" / "pagerduty_account.yaml"
MAX_LIMIT = 100


class PagerDutyError(Exception):
    def __init__(self, status: int, message: str, code: int, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.errors = status, message, code, errors or []

    def response(self) -> JSONResponse:
        error: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            error["errors"] = self.errors
        return JSONResponse({"error": error}, status_code=self.status)


def invalid(*errors: str) -> PagerDutyError:
    return PagerDutyError(400, "Invalid Input Provided", 2001, list(errors))


@dataclass
class Rotation:
    start: dt.datetime
    turn: dt.timedelta
    users: list[str]

    def at(self, when: dt.datetime) -> tuple[str, dt.datetime, dt.datetime]:
        """Who is on call at `when`, and that turn's start and end."""
        turns = (when - self.start) // self.turn
        begin = self.start + turns * self.turn
        return self.users[turns % len(self.users)], begin, begin + self.turn


def _time(value: Any) -> dt.datetime:
    parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


class PagerDutySandbox:
    def __init__(
        self,
        seed: Path | dict[str, Any] | None = None,
        port: int = 0,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        data = seed if isinstance(seed, dict) else yaml.safe_load(Path(seed or DEFAULT_SEED).read_text())
        self.subdomain: str = data["subdomain"]
        self.tokens: list[str] = list(data["api_tokens"])
        self.users: dict[str, dict[str, Any]] = {u["id"]: dict(u) for u in data["users"]}
        self.schedules: dict[str, dict[str, Any]] = {s["id"]: dict(s) for s in data["schedules"]}
        self.rotations = {
            sid: Rotation(
                _time(s["rotation"]["start"]),
                dt.timedelta(hours=float(s["rotation"]["turn_hours"])),
                list(s["rotation"]["users"]),
            )
            for sid, s in self.schedules.items()
        }
        self.policies: dict[str, dict[str, Any]] = {p["id"]: dict(p) for p in data["escalation_policies"]}
        self.overrides: dict[str, str] = {}  # schedule id -> user id on call instead of the rotation
        self.clock = clock
        self.rate_limit_per_minute = 0
        self.requests: list[tuple[str, str]] = []  # (method, path with query), for tests
        self._calls: list[float] = []
        self._lock = threading.RLock()
        self.port = port or free_port()
        self._server = BackgroundServer(self._app(), self.port)

    # --- lifecycle and handles ----------------------------------------------------------------

    def start(self) -> PagerDutySandbox:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def serve_forever(self) -> None:
        self._server.serve_forever()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token(self) -> str:
        return self.tokens[0]

    def override(self, schedule_id: str, user_id: str | None) -> None:
        """Put someone on call in a schedule instead of its rotation (None: back to the rotation)."""
        with self._lock:
            if schedule_id not in self.schedules or (user_id is not None and user_id not in self.users):
                raise KeyError(schedule_id if schedule_id not in self.schedules else user_id)
            if user_id is None:
                self.overrides.pop(schedule_id, None)
            else:
                self.overrides[schedule_id] = user_id

    # --- HTTP ------------------------------------------------------------------------------------

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/oncalls", self._endpoint(self.oncalls), methods=["GET"]),
                Route("/users/{id}", self._endpoint(self.user), methods=["GET"]),
                Route("/_sandbox/overrides", self._set_override, methods=["POST"]),
            ]
        )

    def _endpoint(self, handler: Callable[[Request], dict[str, Any]]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            self.requests.append((request.method, str(request.url.path) + f"?{request.url.query}"))
            try:
                self._authenticate(request)
                self._rate_limit()
                with self._lock:
                    return JSONResponse(handler(request))
            except PagerDutyError as exc:
                return exc.response()

        return endpoint

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, rest = header.partition(" ")
        if scheme != "Token" or not rest.startswith("token=") or rest.removeprefix("token=") not in self.tokens:
            raise PagerDutyError(401, "Unauthorized", 2006)

    def _rate_limit(self) -> None:
        if not self.rate_limit_per_minute:
            return
        now = time.monotonic()
        with self._lock:
            self._calls = [t for t in self._calls if now - t < 60]
            if len(self._calls) >= self.rate_limit_per_minute:
                raise PagerDutyError(429, "Rate Limit Exceeded", 2020)
            self._calls.append(now)

    async def _set_override(self, request: Request) -> Response:
        body = await request.json()
        try:
            self.override(str(body["schedule_id"]), body.get("user_id"))
        except KeyError as exc:
            return JSONResponse({"error": f"unknown {exc}"}, status_code=404)
        return JSONResponse({"ok": True})

    # --- references and objects ------------------------------------------------------------------

    def _ref(self, kind: str, collection: str, item: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": item["id"],
            "type": f"{kind}_reference",
            "summary": item["name"],
            "self": f"{self.base_url}/{collection}/{item['id']}",
            "html_url": f"https://{self.subdomain}.pagerduty.com/{collection}/{item['id']}",
        }

    def _user(self, user_id: str) -> dict[str, Any]:
        u = self.users[user_id]
        return {
            "id": u["id"],
            "type": "user",
            "summary": u["name"],
            "self": f"{self.base_url}/users/{u['id']}",
            "html_url": f"https://{self.subdomain}.pagerduty.com/users/{u['id']}",
            "name": u["name"],
            "email": u["email"],
            "time_zone": u.get("time_zone", "UTC"),
            "color": u.get("color", "purple"),
            "role": u.get("role", "user"),
            "avatar_url": f"https://secure.gravatar.com/avatar/{u['id'].lower()}.png?d=mm&r=PG",
            "description": u.get("description", ""),
            "invitation_sent": False,
            "job_title": u.get("job_title", ""),
            "teams": [],
            "contact_methods": [],
            "notification_rules": [],
        }

    def _schedule_on_call(self, schedule_id: str, when: dt.datetime) -> tuple[str, dt.datetime | None, dt.datetime]:
        if schedule_id in self.overrides:
            _, start, end = self.rotations[schedule_id].at(when)
            return self.overrides[schedule_id], start, end
        return self.rotations[schedule_id].at(when)

    def _entries(self, when: dt.datetime) -> list[dict[str, Any]]:
        """Every on-call at `when`: one per policy level and target, ordered as PagerDuty does
        (by policy, then escalation level)."""
        entries = []
        for policy in self.policies.values():
            for rule in sorted(policy["rules"], key=lambda r: int(r["escalation_level"])):
                for target in rule["targets"]:
                    schedule: dict[str, Any] | None = None
                    start: dt.datetime | None = None
                    end: dt.datetime | None = None
                    if "schedule" in target:
                        schedule = self.schedules[target["schedule"]]
                        user_id, start, end = self._schedule_on_call(schedule["id"], when)
                    else:
                        user_id = target["user"]  # a user target is always on call: no start or end
                    entries.append(
                        {
                            "escalation_policy": self._ref("escalation_policy", "escalation_policies", policy),
                            "escalation_level": int(rule["escalation_level"]),
                            "schedule": self._ref("schedule", "schedules", schedule) if schedule else None,
                            "user": self._ref("user", "users", self.users[user_id]),
                            "start": _iso(start) if start else None,
                            "end": _iso(end) if end else None,
                        }
                    )
        return entries

    # --- endpoints --------------------------------------------------------------------------------

    def oncalls(self, request: Request) -> dict[str, Any]:
        q = request.query_params
        try:
            limit = int(q.get("limit") or 25)
            offset = int(q.get("offset") or 0)
        except ValueError as exc:
            raise invalid("Limit and offset must be integers.") from exc
        if not 0 < limit <= MAX_LIMIT or offset < 0:
            raise invalid(f"Limit must be between 1 and {MAX_LIMIT}; offset must not be negative.")
        try:
            when = _time(q["since"]) if q.get("since") else self.clock()
        except ValueError as exc:
            raise invalid("Since is not a valid ISO 8601 date.") from exc
        policies = q.getlist("escalation_policy_ids[]")
        schedules = q.getlist("schedule_ids[]")
        users = q.getlist("user_ids[]")
        entries = self._entries(when)
        if policies:
            entries = [e for e in entries if e["escalation_policy"]["id"] in policies]
        if schedules:
            # "null" in the list keeps the permanent on-calls of direct user targets, as PagerDuty does.
            entries = [e for e in entries if (e["schedule"] or {"id": "null"})["id"] in schedules]
        if users:
            entries = [e for e in entries if e["user"]["id"] in users]
        if "users" in q.getlist("include[]"):
            entries = [{**e, "user": self._user(e["user"]["id"])} for e in entries]
        page = entries[offset : offset + limit]
        return {
            "oncalls": page,
            "limit": limit,
            "offset": offset,
            "more": offset + limit < len(entries),
            "total": len(entries) if q.get("total") == "true" else None,
        }

    def user(self, request: Request) -> dict[str, Any]:
        user_id = request.path_params["id"]
        if user_id not in self.users:
            raise PagerDutyError(404, "Not Found", 2100)
        return {"user": self._user(user_id)}

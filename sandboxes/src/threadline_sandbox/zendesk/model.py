"""The Zendesk account's state and Zendesk's rules, without HTTP.

Everything here runs under the sandbox's lock. Stored tickets, comments, audits and users are
kept in Zendesk's own JSON shapes, so the API returns them as they are. What happens to a ticket
also becomes events (`ticket.created`, `ticket.comment_added`, `ticket.status_changed`) that the
sandbox sends as event webhooks once the action is complete.
"""

from __future__ import annotations

import base64
import copy
import html
import itertools
import mimetypes
import re
import shlex
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from threadline_sandbox.zendesk.help_center import HelpCenter
from threadline_sandbox.zendesk.seed import Seed

STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
PRIORITIES = ("low", "normal", "high", "urgent")
TICKET_TYPES = ("problem", "incident", "question", "task")
STAFF_ROLES = ("agent", "admin")
# The system ticket fields after subject and description, as GET /api/v2/ticket_fields lists them.
SYSTEM_FIELDS = (
    ("status", "Status"),
    ("tickettype", "Type"),
    ("priority", "Priority"),
    ("group", "Group"),
    ("assignee", "Assignee"),
)
SYSTEM_USER_ID = -1  # Zendesk's author of automation changes
EMPTY_SOURCE: dict[str, Any] = {"from": {}, "to": {}, "rel": None}
# Ticket fields an update may set as they are (status, tags and comment have rules of their own).
PLAIN_FIELDS = (
    "subject",
    "priority",
    "type",
    "group_id",
    "assignee_id",
    "external_id",
    "brand_id",
    "ticket_form_id",
    "requester_id",
    "due_at",
)


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ZendeskError(Exception):
    """An API error: HTTP status and Zendesk's JSON error body."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(body)
        self.status, self.body, self.headers = status, body, headers or {}


def not_found() -> ZendeskError:
    return ZendeskError(404, {"error": "RecordNotFound", "description": "Not found"})


def record_invalid(field_name: str, description: str) -> ZendeskError:
    return ZendeskError(
        422,
        {
            "error": "RecordInvalid",
            "description": "Record validation errors",
            "details": {field_name: [{"description": description}]},
        },
    )


# The account's Description ticket field, which Zendesk names when a new ticket has none.
DESCRIPTION_FIELD_ID = 360000000001


def blank_description() -> ZendeskError:
    """A ticket created without a comment or description, refused as Zendesk refuses it: under
    `base`, with the error code and the Description field it concerns."""
    return ZendeskError(
        422,
        {
            "error": "RecordInvalid",
            "description": "Record validation errors",
            "details": {
                "base": [
                    {
                        "description": "Description: cannot be blank",
                        "error": "BlankValue",
                        "ticket_field_id": DESCRIPTION_FIELD_ID,
                        "ticket_field_type": "FieldDescription",
                    }
                ]
            },
        },
    )


@dataclass(frozen=True)
class Actor:
    """Who does something, and through which channel Zendesk records it (`via.channel`)."""

    user_id: int
    channel: str  # api | web | email | rule
    client: str = "sandbox"
    source: dict[str, Any] = field(default_factory=lambda: dict(EMPTY_SOURCE))

    @property
    def via(self) -> dict[str, Any]:
        return {"channel": self.channel, "source": copy.deepcopy(self.source)}


@dataclass
class TicketRecord:
    data: dict[str, Any]
    comments: list[dict[str, Any]] = field(default_factory=list)
    audits: list[dict[str, Any]] = field(default_factory=list)
    generated_at: float = 0.0  # Zendesk's generated_timestamp: any change, incremental exports use it
    solved_at: float | None = None


@dataclass
class TicketEvent:
    """One event of an action on a ticket; the sandbox turns it into an event webhook body."""

    kind: str  # created | comment_added | status_changed
    ticket: dict[str, Any]  # the ticket once the whole action is applied
    event: dict[str, Any]
    actor_id: int
    sequence_id: str
    position: int


@dataclass
class _Pending:
    kind: str
    ticket_id: int
    event: dict[str, Any]
    actor_id: int


def render_html(body: str) -> str:
    """Zendesk's html_body for a plain comment: paragraphs on blank lines, <br> within them."""
    paragraphs = [p for p in re.split(r"\n\s*\n", body.strip()) if p] or [""]
    inner = "".join(f'<p dir="auto">{html.escape(p).replace(chr(10), "<br>")}</p>' for p in paragraphs)
    return f'<div class="zd-comment" dir="auto">{inner}</div>'


def html_to_text(markup: str) -> str:
    text = re.sub(r"<br\s*/?>", "\n", markup, flags=re.IGNORECASE)
    text = re.sub(r"</p>\s*<p[^>]*>", "\n\n", text, flags=re.IGNORECASE)
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


def normalize_tags(tags: Iterable[Any]) -> list[str]:
    """Zendesk lower-cases tags and splits them on spaces."""
    return sorted({part for tag in tags for part in str(tag).lower().split() if part})


class Account:
    def __init__(self, seed: Seed, base_url: str, clock: Callable[[], float] = time.time) -> None:
        self.seed = seed
        self.base_url = base_url
        self.clock = clock
        now = clock()
        # Ids never repeat across runs (Kafka keeps state between runs): they grow with the clock.
        self._ticket_ids = itertools.count((int(now) - 1_700_000_000) * 10)
        self._ids = itertools.count(int(now * 1000))
        self.users: dict[int, dict[str, Any]] = {}
        self.groups: dict[int, dict[str, Any]] = {}
        self.brands: dict[int, dict[str, Any]] = {}
        self.tickets: dict[int, TicketRecord] = {}
        # Files by the token in their content_url: {"content", "content_type", "attachment", "upload_token"}.
        self.uploads: dict[str, dict[str, Any]] = {}
        self.upload_tokens: dict[str, list[str]] = {}  # upload token -> file tokens
        self.attachments: dict[int, str] = {}  # attachment id -> file token
        self.jobs: dict[str, dict[str, Any]] = {}
        self.oauth_tokens: dict[str, int] = {
            seed.integration.oauth_token: seed.integration.user_id,
            seed.agent.oauth_token: seed.agent.user_id,
        }
        self._pending: list[_Pending] = []
        self.help_center = HelpCenter(base_url, lambda: iso(self.now()), self.next_id)
        self.help_center.seed(seed.help_center)
        stamp = iso(now)
        for raw in seed.users:
            user = self._user_json(int(raw["id"]), str(raw["name"]), raw.get("email"), str(raw.get("role", "end-user")))
            user.update(verified=True, default_group_id=raw.get("default_group_id"), created_at=stamp)
            if raw.get("photo_url"):
                user["photo"] = self._photo(str(raw["photo_url"]))
            self.users[user["id"]] = user
        for raw in seed.groups:
            gid = int(raw["id"])
            self.groups[gid] = {
                "url": f"{base_url}/api/v2/groups/{gid}.json",
                "id": gid,
                "is_public": True,
                "name": str(raw["name"]),
                "description": str(raw.get("description") or ""),
                "default": bool(raw.get("default", False)),
                "deleted": False,
                "created_at": stamp,
                "updated_at": stamp,
            }
        form_ids = [int(f["id"]) for f in seed.ticket_forms]
        for raw in seed.brands:
            bid = int(raw["id"])
            self.brands[bid] = {
                "url": f"{base_url}/api/v2/brands/{bid}.json",
                "id": bid,
                "name": str(raw["name"]),
                "brand_url": f"https://{seed.subdomain}.zendesk.com",
                "subdomain": seed.subdomain,
                "host_mapping": None,
                "has_help_center": False,
                "help_center_state": "disabled",
                "active": True,
                "default": bool(raw.get("default", False)),
                "is_deleted": False,
                "logo": None,
                "ticket_form_ids": form_ids,
                "signature_template": "{{agent.signature}}",
                "created_at": stamp,
                "updated_at": stamp,
            }

        # Zendesk lists its system fields first, then the custom ones, by position.
        self.ticket_fields: dict[int, dict[str, Any]] = {}
        system = [
            (DESCRIPTION_FIELD_ID - 1, "subject", "Subject"),
            (DESCRIPTION_FIELD_ID, "description", "Description"),
        ]
        system += [(DESCRIPTION_FIELD_ID + n, kind, title) for n, (kind, title) in enumerate(SYSTEM_FIELDS, start=1)]
        for position, (fid, kind, title) in enumerate(system):
            self.ticket_fields[fid] = self._ticket_field(fid, kind, title, position, True, [], stamp)
        for position, raw in enumerate(seed.ticket_fields, start=len(system)):
            options = [
                {
                    "id": self.next_id(),
                    "name": str(o["name"]),
                    "raw_name": str(o["name"]),
                    "value": str(o["value"]),
                    "default": False,
                }
                for o in raw.get("options") or ()
            ]
            fid = int(raw["id"])
            self.ticket_fields[fid] = self._ticket_field(
                fid, str(raw["type"]), str(raw["title"]), position, bool(raw.get("active", True)), options, stamp
            )

        # Ticket forms (GET /api/v2/ticket_forms): each shows every field unless the seed lists its own.
        self.ticket_forms: dict[int, dict[str, Any]] = {}
        for position, raw in enumerate(seed.ticket_forms):
            tid, name = int(raw["id"]), str(raw["name"])
            self.ticket_forms[tid] = {
                "url": f"{base_url}/api/v2/ticket_forms/{tid}.json",
                "id": tid,
                "name": name,
                "raw_name": name,
                "display_name": name,
                "raw_display_name": name,
                "position": position,
                "active": bool(raw.get("active", True)),
                "end_user_visible": True,
                "default": bool(raw.get("default", False)),
                "ticket_field_ids": [int(i) for i in raw.get("ticket_field_ids") or self.ticket_fields],
                "in_all_brands": True,
                "restricted_brand_ids": [],
                "agent_conditions": [],
                "end_user_conditions": [],
                "created_at": stamp,
                "updated_at": stamp,
            }

    # --- ids, time, events -------------------------------------------------------------------

    def next_id(self) -> int:
        return next(self._ids)

    def now(self) -> float:
        return self.clock()

    def drain_events(self) -> list[TicketEvent]:
        """The events of the actions since the last call, each with the ticket as it is now."""
        pending, self._pending = self._pending, []
        events: list[TicketEvent] = []
        sequence = uuid.uuid4().hex.upper()
        for position, item in enumerate(pending, start=1):
            ticket = copy.deepcopy(self.tickets[item.ticket_id].data)
            events.append(TicketEvent(item.kind, ticket, item.event, item.actor_id, sequence, position))
        return events

    def _emit(self, kind: str, ticket_id: int, event: dict[str, Any], actor_id: int) -> None:
        self._pending.append(_Pending(kind, ticket_id, event, actor_id))

    def _ticket_field(
        self, fid: int, kind: str, title: str, position: int, active: bool, options: list[dict[str, Any]], stamp: str
    ) -> dict[str, Any]:
        """A ticket field as GET /api/v2/ticket_fields/{id} shows it."""
        field_json: dict[str, Any] = {
            "url": f"{self.base_url}/api/v2/ticket_fields/{fid}.json",
            "id": fid,
            "type": kind,
            "title": title,
            "raw_title": title,
            "description": "",
            "raw_description": "",
            "agent_description": None,
            "position": position,
            "active": active,
            "required": False,
            "collapsed_for_agents": False,
            "regexp_for_validation": None,
            "title_in_portal": title,
            "raw_title_in_portal": title,
            "visible_in_portal": False,
            "editable_in_portal": False,
            "required_in_portal": False,
            "tag": None,
            "created_at": stamp,
            "updated_at": stamp,
            "removable": kind not in {k for k, _ in SYSTEM_FIELDS} | {"subject", "description"},
            "key": None,
        }
        if kind in ("tagger", "multiselect"):
            field_json["custom_field_options"] = options
        return field_json

    # --- users ---------------------------------------------------------------------------------

    def _photo(self, url: str) -> dict[str, Any]:
        return {
            "url": url,
            "id": self.next_id(),
            "file_name": url.rsplit("/", 1)[-1],
            "content_url": url,
            "mapped_content_url": url,
            "content_type": mimetypes.guess_type(url)[0] or "image/png",
            "size": 0,
            "width": 80,
            "height": 80,
            "inline": False,
            "deleted": False,
            "thumbnails": [],
        }

    def _user_json(self, uid: int, name: str, email: str | None, role: str) -> dict[str, Any]:
        stamp = iso(self.now())
        return {
            "id": uid,
            "url": f"{self.base_url}/api/v2/users/{uid}.json",
            "name": name,
            "email": email,
            "created_at": stamp,
            "updated_at": stamp,
            "time_zone": "Etc/UTC",
            "iana_time_zone": "Etc/UTC",
            "phone": None,
            "shared_phone_number": None,
            "photo": None,
            "locale_id": 1,
            "locale": "en-US",
            "organization_id": None,
            "role": role,
            "verified": False,
            "external_id": None,
            "tags": [],
            "alias": "",
            "active": True,
            "shared": False,
            "shared_agent": False,
            "last_login_at": None,
            "two_factor_auth_enabled": None,
            "signature": "",
            "details": "",
            "notes": "",
            "role_type": None,
            "custom_role_id": None,
            "moderator": role in STAFF_ROLES,
            "ticket_restriction": None if role in STAFF_ROLES else "requested",
            "only_private_comments": False,
            "restricted_agent": False,
            "suspended": False,
            "default_group_id": None,
            "report_csv": False,
            "user_fields": {},
        }

    def user(self, user_id: int) -> dict[str, Any]:
        user = self.users.get(int(user_id))
        if user is None:
            raise not_found()
        return user

    def is_staff(self, user_id: int) -> bool:
        return self.users.get(user_id, {}).get("role") in STAFF_ROLES

    def find_user(self, email: str | None = None, external_id: str | None = None) -> dict[str, Any] | None:
        for user in self.users.values():
            if email and (user.get("email") or "").lower() == email.lower():
                return user
            if external_id and user.get("external_id") == external_id:
                return user
        return None

    def create_user(self, data: dict[str, Any]) -> dict[str, Any]:
        email = data.get("email")
        if email and self.find_user(email=str(email)):
            raise record_invalid("email", f"Email: {email} is already being used by another user")
        if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", str(email)):
            raise record_invalid("email", f"Email: {email} is not properly formatted")
        name = str(data.get("name") or (str(email).split("@")[0] if email else ""))
        if not name:
            raise record_invalid("name", "Name: is too short (minimum one character)")
        role = str(data.get("role") or "end-user")
        if role not in ("end-user", *STAFF_ROLES):
            raise record_invalid("role", f"Role: {role} is not a valid role")
        user = self._user_json(self.next_id(), name, str(email) if email else None, role)
        self._apply_user_fields(user, data)
        self.users[user["id"]] = user
        return user

    def _apply_user_fields(self, user: dict[str, Any], data: dict[str, Any]) -> None:
        for key in ("name", "external_id", "phone", "details", "notes", "verified", "locale", "time_zone"):
            if data.get(key) is not None:
                user[key] = data[key]
        if data.get("tags") is not None:
            user["tags"] = normalize_tags(data["tags"])
        if data.get("user_fields"):
            user["user_fields"] = {**user["user_fields"], **data["user_fields"]}
        if isinstance(data.get("remote_photo_url"), str):
            user["photo"] = self._photo(data["remote_photo_url"])
        user["updated_at"] = iso(self.now())

    def create_or_update_user(self, data: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Zendesk matches on email, then external_id. Returns (user, created)."""
        existing = self.find_user(email=data.get("email")) or self.find_user(external_id=data.get("external_id"))
        if existing is None:
            return self.create_user(data), True
        self._apply_user_fields(existing, data)
        return existing, False

    def find_or_create_user(self, name: str | None, email: str | None) -> dict[str, Any]:
        found = self.find_user(email=email)
        return found if found is not None else self.create_user({"name": name, "email": email})

    def search_users(self, query: str | None, external_id: str | None) -> list[dict[str, Any]]:
        if external_id:
            return [u for u in self.users.values() if u.get("external_id") == external_id]
        text = (query or "").strip().strip('"').lower()
        if text.startswith("email:"):
            email = text.removeprefix("email:").strip('"')
            return [u for u in self.users.values() if (u.get("email") or "").lower() == email]
        if text.startswith("name:"):
            text = text.removeprefix("name:").strip('"')
        if not text:
            return []
        return [u for u in self.users.values() if text in u["name"].lower() or text in (u.get("email") or "").lower()]

    # --- uploads -------------------------------------------------------------------------------

    def add_upload(self, filename: str, content: bytes, content_type: str | None, token: str | None) -> dict[str, Any]:
        if token is not None and token not in self.upload_tokens:
            raise not_found()
        upload_token = token or uuid.uuid4().hex[:25]
        # The first file of an upload is served under the upload's own token.
        file_token = upload_token if not self.upload_tokens.get(upload_token) else uuid.uuid4().hex[:25]
        if not content_type or content_type == "application/octet-stream":
            content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        attachment_id = self.next_id()
        content_url = f"{self.base_url}/attachments/token/{file_token}/?name={quote(filename)}"
        attachment = {
            "url": f"{self.base_url}/api/v2/attachments/{attachment_id}.json",
            "id": attachment_id,
            "file_name": filename,
            "content_url": content_url,
            "mapped_content_url": content_url,
            "content_type": content_type,
            "size": len(content),
            "width": None,
            "height": None,
            "inline": False,
            "deleted": False,
            "malware_access_override": False,
            "malware_scan_result": "malware_not_found",
            "thumbnails": [],
        }
        self.uploads[file_token] = {
            "content": content,
            "content_type": content_type,
            "attachment": attachment,
            "upload_token": upload_token,
        }
        self.upload_tokens.setdefault(upload_token, []).append(file_token)
        self.attachments[attachment_id] = file_token
        attachments = [self.uploads[t]["attachment"] for t in self.upload_tokens[upload_token]]
        return {
            "token": upload_token,
            "expires_at": iso(self.now() + 3 * 86400),
            "attachments": attachments,
            "attachment": attachment,
        }

    def delete_upload(self, token: str) -> None:
        for file_token in self.upload_tokens.pop(token, None) or []:
            self.attachments.pop(self.uploads.pop(file_token)["attachment"]["id"], None)

    def attachment(self, attachment_id: int) -> dict[str, Any]:
        token = self.attachments.get(attachment_id)
        if token is None:
            raise not_found()
        return dict(self.uploads[token]["attachment"])

    def _attachments_of(self, tokens: Iterable[Any]) -> list[dict[str, Any]]:
        attachments: list[dict[str, Any]] = []
        for token in tokens:
            files = self.upload_tokens.get(str(token))
            if files is None:
                raise record_invalid("uploads", f"Uploads: {token} is not a valid upload token")
            attachments += [copy.deepcopy(self.uploads[t]["attachment"]) for t in files]
        return attachments

    # --- tickets -------------------------------------------------------------------------------

    def ticket(self, ticket_id: int) -> TicketRecord:
        record = self.tickets.get(int(ticket_id))
        if record is None:
            raise not_found()
        return record

    def _custom_status(self, status: str) -> int | None:
        return self.seed.custom_statuses.get("solved" if status == "closed" else status)

    def _check_fields(self, data: dict[str, Any]) -> None:
        if data.get("status") is not None and data["status"] not in STATUSES:
            raise record_invalid("status", f"Status: {data['status']} is not valid")
        if data.get("priority") is not None and data["priority"] not in PRIORITIES:
            raise record_invalid("priority", f"Priority: {data['priority']} is not valid")
        if data.get("type") is not None and data["type"] not in TICKET_TYPES:
            raise record_invalid("type", f"Type: {data['type']} is not valid")
        if data.get("group_id") is not None and int(data["group_id"]) not in self.groups:
            raise record_invalid("group", "Group: is invalid")
        if data.get("brand_id") is not None and int(data["brand_id"]) not in self.brands:
            raise record_invalid("brand", "Brand: is invalid")
        for key in ("assignee_id", "requester_id", "submitter_id"):
            if data.get(key) is not None and int(data[key]) not in self.users:
                raise record_invalid(key.removesuffix("_id"), f"{key.removesuffix('_id').title()}: is invalid")
        if data.get("assignee_id") is not None and not self.is_staff(int(data["assignee_id"])):
            raise record_invalid("assignee", "Assignee: is not an agent")

    def create_ticket(self, data: dict[str, Any], actor: Actor) -> tuple[dict[str, Any], dict[str, Any]]:
        """POST /tickets.json: the new ticket and its audit."""
        self._check_fields(data)
        comment_data = dict(data.get("comment") or {})
        if not (comment_data.get("body") or comment_data.get("html_body")) and data.get("description"):
            comment_data["body"] = data["description"]
        if not (comment_data.get("body") or comment_data.get("html_body") or comment_data.get("uploads")):
            raise blank_description()
        requester_id = data.get("requester_id")
        if isinstance(data.get("requester"), dict):
            raw = data["requester"]
            requester_id = self.find_or_create_user(raw.get("name"), raw.get("email"))["id"]
        via = actor.via
        followup_of = data.get("via_followup_source_id")
        if followup_of is not None:
            source = self.tickets.get(int(followup_of))
            if source is None or source.data["status"] != "closed":
                raise record_invalid("via_followup_source_id", "Follow-up source: is not a closed ticket")
            via["source"] = {
                "from": {
                    "ticket_id": source.data["id"],
                    "subject": source.data["subject"],
                    "channel": source.data["via"]["channel"],
                },
                "to": {},
                "rel": "follow_up",
            }
            requester_id = requester_id or source.data["requester_id"]
        # The submitter is the author of the first comment: by default the requester.
        requester_id = int(requester_id or actor.user_id)
        author_id = int(comment_data.get("author_id") or data.get("submitter_id") or requester_id)
        if author_id not in self.users:
            raise record_invalid("author_id", "Author: is invalid")
        self._attachments_of(comment_data.get("uploads") or [])  # refuse bad tokens before any change
        status = data.get("status") or ("open" if data.get("assignee_id") else "new")
        now = self.now()
        tid = next(self._ticket_ids)
        stamp = iso(now)
        ticket: dict[str, Any] = {
            "url": f"{self.base_url}/api/v2/tickets/{tid}.json",
            "id": tid,
            "external_id": data.get("external_id"),
            "via": via,
            "created_at": stamp,
            "updated_at": stamp,
            "type": data.get("type"),
            "subject": None,
            "raw_subject": None,
            "description": "",
            "priority": data.get("priority"),
            "status": status,
            "recipient": data.get("recipient"),
            "requester_id": requester_id,
            "submitter_id": author_id,
            "assignee_id": data.get("assignee_id"),
            "organization_id": None,
            "group_id": data.get("group_id"),
            "collaborator_ids": [],
            "follower_ids": [],
            "email_cc_ids": [],
            "forum_topic_id": None,
            "problem_id": None,
            "has_incidents": False,
            "is_public": True,
            "due_at": data.get("due_at"),
            "tags": normalize_tags(data.get("tags") or []),
            "custom_fields": list(data.get("custom_fields") or []),
            "satisfaction_rating": None,
            "sharing_agreement_ids": [],
            "custom_status_id": self._custom_status(status),
            "fields": list(data.get("custom_fields") or []),
            "followup_ids": [],
            "ticket_form_id": data.get("ticket_form_id") or self.seed.default_id("ticket_forms"),
            "brand_id": data.get("brand_id") or self.seed.default_id("brands"),
            "allow_channelback": False,
            "allow_attachments": True,
            "from_messaging_channel": False,
        }
        if followup_of is not None:
            ticket["via_followup_source_id"] = int(followup_of)
        record = TicketRecord(ticket, generated_at=now, solved_at=now if status == "solved" else None)
        self.tickets[tid] = record
        audit = self._audit(record, actor, data.get("metadata"))
        comment = self._add_comment(record, comment_data, author_id, actor, audit)
        ticket["description"] = comment["plain_body"]
        ticket["is_public"] = comment["public"]
        ticket["subject"] = ticket["raw_subject"] = data.get("subject") or comment["plain_body"][:80]
        for name in ("subject", "requester_id", "status", "priority", "type", "group_id", "assignee_id"):
            self._event(audit, "Create", name, ticket[name])
        for name in ("brand_id", "ticket_form_id", "custom_status_id"):
            self._event(audit, "Create", name, ticket[name])
        if ticket["tags"]:
            self._event(audit, "Create", "tags", ticket["tags"])
        if followup_of is not None:
            self.tickets[int(followup_of)].data["followup_ids"].append(tid)
        self._emit("created", tid, {}, actor.user_id)
        return copy.deepcopy(ticket), copy.deepcopy(audit)

    def update_ticket(
        self, ticket_id: int, data: dict[str, Any], actor: Actor
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """PUT /tickets/{id}.json: the ticket and the audit of this update."""
        record = self.ticket(ticket_id)
        ticket = record.data
        if ticket["status"] == "closed":
            raise record_invalid("status", "Status: closed prevents ticket update")
        self._check_fields(data)
        comment_data = data.get("comment")
        if isinstance(comment_data, dict):
            self._attachments_of(comment_data.get("uploads") or [])  # refuse bad tokens before any change
            if int(comment_data.get("author_id") or actor.user_id) not in self.users:
                raise record_invalid("author_id", "Author: is invalid")
        audit = self._audit(record, actor, data.get("metadata"))
        comment = None
        if isinstance(comment_data, dict) and (
            comment_data.get("body") or comment_data.get("html_body") or comment_data.get("uploads")
        ):
            author_id = int(comment_data.get("author_id") or actor.user_id)
            comment = self._add_comment(record, dict(comment_data), author_id, actor, audit)
            self._emit_comment(ticket["id"], comment, actor)
        for name in PLAIN_FIELDS:
            if name in data and data[name] != ticket[name]:
                self._change(audit, ticket, name, data[name])
        custom_key = next((k for k in ("custom_fields", "fields") if k in data), None)
        if custom_key is not None:
            ticket["custom_fields"] = ticket["fields"] = list(data[custom_key] or [])
        tags = ticket["tags"]
        if "tags" in data:
            tags = normalize_tags(data["tags"] or [])
        tags = normalize_tags([*tags, *(data.get("additional_tags") or [])])
        removed = set(normalize_tags(data.get("remove_tags") or []))
        tags = [t for t in tags if t not in removed]
        if tags != ticket["tags"]:
            self._change(audit, ticket, "tags", tags)
        status = data.get("status")
        if status is None and comment is not None and self._reopens(ticket, comment):
            status = "open"
        if status is not None and status != ticket["status"]:
            if status == "solved" and ticket["assignee_id"] is None and self.is_staff(actor.user_id):
                self._change(audit, ticket, "assignee_id", actor.user_id)  # solving assigns the solver
            self._set_status(record, audit, status, actor)
        if not audit["events"]:
            record.audits.remove(audit)  # nothing changed: Zendesk records no audit
        self._touch(record, changed=bool(audit["events"]))
        return copy.deepcopy(ticket), copy.deepcopy(audit)

    def _reopens(self, ticket: dict[str, Any], comment: dict[str, Any]) -> bool:
        """The requester's public reply reopens a ticket that waits on them or is solved."""
        by_requester = comment["author_id"] == ticket["requester_id"] and not self.is_staff(comment["author_id"])
        return by_requester and comment["public"] and ticket["status"] in ("pending", "solved", "hold")

    def _emit_comment(self, ticket_id: int, comment: dict[str, Any], actor: Actor) -> None:
        author = self.users[comment["author_id"]]
        event = {
            "comment": {
                "id": str(comment["id"]),
                "body": comment["body"],
                "html_body": comment["html_body"],
                "is_public": comment["public"],
                "author": {"id": str(author["id"]), "name": author["name"], "is_staff": author["role"] in STAFF_ROLES},
            }
        }
        self._emit("comment_added", ticket_id, event, actor.user_id)

    def close_due_tickets(self, delay_seconds: float) -> list[int]:
        """Zendesk's automation: a ticket solved for `delay_seconds` becomes closed."""
        now, closed = self.now(), []
        for record in self.tickets.values():
            if record.data["status"] == "solved" and now - (record.solved_at or now) >= delay_seconds:
                rule = Actor(SYSTEM_USER_ID, "rule", "Zendesk", {"from": {}, "to": {}, "rel": "automation"})
                audit = self._audit(record, rule, None)
                self._set_status(record, audit, "closed", rule)
                self._touch(record, changed=True)
                closed.append(record.data["id"])
        return closed

    def _set_status(self, record: TicketRecord, audit: dict[str, Any], status: str, actor: Actor) -> None:
        ticket = record.data
        previous = ticket["status"]
        self._change(audit, ticket, "status", status)
        ticket["custom_status_id"] = self._custom_status(status)
        record.solved_at = self.now() if status == "solved" else record.solved_at if status == "closed" else None
        self._emit(
            "status_changed", ticket["id"], {"current": status.upper(), "previous": previous.upper()}, actor.user_id
        )

    def _touch(self, record: TicketRecord, changed: bool) -> None:
        now = self.now()
        record.generated_at = now
        if changed:
            record.data["updated_at"] = iso(now)

    def _audit(self, record: TicketRecord, actor: Actor, custom: Any) -> dict[str, Any]:
        audit = {
            "id": self.next_id(),
            "ticket_id": record.data["id"],
            "created_at": iso(self.now()),
            "author_id": actor.user_id,
            "metadata": {"system": self._system(actor), "custom": dict(custom) if isinstance(custom, dict) else {}},
            "events": [],
            "via": actor.via,
        }
        record.audits.append(audit)
        return audit

    @staticmethod
    def _system(actor: Actor) -> dict[str, Any]:
        return {
            "client": actor.client,
            "ip_address": "127.0.0.1",
            "location": "Sandbox, Localhost",
            "latitude": 0.0,
            "longitude": 0.0,
        }

    def _event(self, audit: dict[str, Any], kind: str, name: str, value: Any) -> None:
        shown = value if isinstance(value, list) or value is None else str(value)
        audit["events"].append({"id": self.next_id(), "type": kind, "value": shown, "field_name": name})

    def _change(self, audit: dict[str, Any], ticket: dict[str, Any], name: str, value: Any) -> None:
        previous = ticket[name]
        ticket[name] = value
        self._event(audit, "Change", name, value)
        audit["events"][-1]["previous_value"] = (
            previous if isinstance(previous, list) or previous is None else str(previous)
        )

    def _add_comment(
        self,
        record: TicketRecord,
        data: dict[str, Any],
        author_id: int,
        actor: Actor,
        audit: dict[str, Any],
    ) -> dict[str, Any]:
        if data.get("html_body") and not data.get("body"):
            body = html_to_text(str(data["html_body"]))
            html_body = f'<div class="zd-comment" dir="auto">{data["html_body"]}</div>'
        else:
            body = str(data.get("body") or "")
            html_body = render_html(body)
        comment = {
            "id": self.next_id(),
            "type": "Comment",
            "author_id": author_id,
            "body": body,
            "html_body": html_body,
            "plain_body": body,
            "public": bool(data.get("public", True)),
            "attachments": self._attachments_of(data.get("uploads") or []),
            "audit_id": audit["id"],
            "via": self._comment_via(record, actor),
            "created_at": audit["created_at"],
            "metadata": copy.deepcopy(audit["metadata"]),
        }
        record.comments.append(comment)
        event = {k: comment[k] for k in ("id", "type", "author_id", "body", "html_body", "plain_body", "public")}
        audit["events"].append({**event, "attachments": comment["attachments"], "audit_id": audit["id"]})
        return comment

    def _comment_via(self, record: TicketRecord, actor: Actor) -> dict[str, Any]:
        """A comment made through the API names, in `via.source.to`, whom Zendesk addresses it
        to: the requester (as in Zendesk's recorded answers). Other channels keep their source."""
        via = actor.via
        requester = self.users.get(record.data["requester_id"]) or {}
        if actor.channel == "api" and requester.get("email"):
            via["source"]["to"] = {"name": requester["name"], "address": requester["email"]}
        return via

    # --- reading -------------------------------------------------------------------------------

    def visible_tickets(self, indexed_before: float | None = None) -> list[TicketRecord]:
        """Tickets by id; with `indexed_before`, only those the search index has seen."""
        records = sorted(self.tickets.values(), key=lambda r: r.data["id"])
        if indexed_before is None:
            return records
        return [r for r in records if r.generated_at <= indexed_before]

    def changed_since(self, start: float) -> list[TicketRecord]:
        records = [r for r in self.tickets.values() if r.generated_at >= start]
        return sorted(records, key=lambda r: (r.generated_at, r.data["id"]))

    def export_json(self, record: TicketRecord) -> dict[str, Any]:
        return {**copy.deepcopy(record.data), "generated_timestamp": int(record.generated_at)}

    def search(self, query: str, indexed_before: float) -> list[tuple[str, dict[str, Any]]]:
        """/search.json: (result_type, object) pairs for Zendesk's query syntax, as far as it goes."""
        terms, words = parse_query(query)
        kind = next((v for k, _, v in terms if k == "type"), None)
        results: list[tuple[str, dict[str, Any]]] = []
        if kind in (None, "ticket"):
            for record in self.visible_tickets(indexed_before):
                if self._ticket_matches(record, terms, words):
                    results.append(("ticket", copy.deepcopy(record.data)))
        if kind in (None, "user"):
            for user in sorted(self.users.values(), key=lambda u: u["id"]):
                fields = {"email": user.get("email") or "", "name": user["name"], "role": user["role"]}
                fields["external_id"] = user.get("external_id") or ""
                if _matches(fields, [t for t in terms if t[0] != "type"], words, " ".join(fields.values())):
                    results.append(("user", copy.deepcopy(user)))
        if kind in (None, "group"):
            for group in sorted(self.groups.values(), key=lambda g: g["id"]):
                fields = {"name": group["name"]}
                if _matches(fields, [t for t in terms if t[0] != "type"], words, group["name"]):
                    results.append(("group", copy.deepcopy(group)))
        return results

    def _ticket_matches(self, record: TicketRecord, terms: list[tuple[str, str, str]], words: list[str]) -> bool:
        t = record.data
        group = self.groups.get(t["group_id"] or 0, {})
        requester = self.users.get(t["requester_id"], {})
        assignee = self.users.get(t["assignee_id"] or 0, {})
        fields = {
            "status": t["status"],
            "external_id": t["external_id"] or "",
            "subject": t["subject"] or "",
            "description": t["description"],
            "priority": t["priority"] or "",
            "ticket_type": t["type"] or "",
            "via": t["via"]["channel"],
            "group": f"{t['group_id'] or ''} {group.get('name', '')}",
            "group_id": str(t["group_id"] or ""),
            "brand": str(t["brand_id"] or ""),
            "brand_id": str(t["brand_id"] or ""),
            "requester": f"{t['requester_id']} {requester.get('email') or ''}",
            "assignee": f"{t['assignee_id'] or 'none'} {assignee.get('email') or ''}",
        }
        checks = []
        for key, op, value in terms:
            if key == "type":
                continue
            if key in ("tags", "tag"):
                checks.append(value.lower() in t["tags"])
            elif key == "status" and op != ":":
                checks.append(_compare_status(t["status"], op, value))
            else:
                checks.append(_field_matches(fields, key, value))
        text = " ".join([t["subject"] or "", t["description"], *(c["body"] for c in record.comments)])
        return all(checks) and all(w.lower() in text.lower() for w in words)


def parse_query(query: str) -> tuple[list[tuple[str, str, str]], list[str]]:
    """Zendesk search syntax: `key:value` / `key<value` terms (values may be quoted) and words."""
    try:
        tokens = shlex.split(query)
    except ValueError:
        tokens = query.split()
    terms: list[tuple[str, str, str]] = []
    words: list[str] = []
    for token in tokens:
        match = re.fullmatch(r"([a-z_]+)(:|<=|>=|<|>)(.*)", token)
        if match:
            terms.append((match[1], match[2], match[3]))
        else:
            words.append(token)
    return terms, words


def _field_matches(fields: dict[str, str], key: str, value: str) -> bool:
    if key not in fields:
        return False
    if key in ("subject", "description"):
        return value.lower() in fields[key].lower()
    return value.lower() in fields[key].lower().split() or value.lower() == fields[key].lower()


def _matches(fields: dict[str, str], terms: list[tuple[str, str, str]], words: list[str], text: str) -> bool:
    return all(_field_matches(fields, k, v) for k, _, v in terms) and all(w.lower() in text.lower() for w in words)


def _compare_status(status: str, op: str, value: str) -> bool:
    if value not in STATUSES:
        return False
    mine, theirs = STATUSES.index(status), STATUSES.index(value)
    return {"<": mine < theirs, ">": mine > theirs, "<=": mine <= theirs, ">=": mine >= theirs}[op]


def encode_cursor(payload: str) -> str:
    return base64.urlsafe_b64encode(payload.encode()).decode()


def decode_cursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise ZendeskError(400, {"error": "InvalidPaginationParameter", "description": "invalid cursor"}) from exc

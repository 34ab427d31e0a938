"""Threadline's modals (Slack views) and what their submissions mean, as pure functions shared by
the router (which builds and reads them) and ingest (which validates a submission before anything
is stored, answering Slack's `response_action: errors` in the same request).

- the ticket form (`threadline.open_ticket`): subject, description, priority, type and the
  custom fields the channel's `zendesk.form` names;
- "Add to ticket" (`threadline.add_to_ticket`): which ticket a message goes to.

A view's `private_metadata` carries what its submission needs: the conversation that decides it,
the channel, the message, the requester and the form spec, so the validator reads only the view.
Views are built with slack_sdk's Block Kit models, which hold Slack's own limits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from slack_sdk.models.blocks import (
    InputBlock,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from threadline_common.channels import FormField

OPEN_TICKET = "threadline.open_ticket"
ADD_TO_TICKET = "threadline.add_to_ticket"
# Block ids of the ticket form; a custom field's is `field:<id>`. Each input block has one element.
SUBJECT, DESCRIPTION, PRIORITY, TYPE, TICKET = "subject", "description", "priority", "type", "ticket"
ACTION = "value"
SUBJECT_LIMIT = 150
DESCRIPTION_LIMIT = 3000  # a plain_text_input holds at most 3000 characters
PRIORITIES = ("low", "normal", "high", "urgent")
TYPES = ("question", "incident", "problem", "task")
Priority = Literal["low", "normal", "high", "urgent"]
TicketType = Literal["question", "incident", "problem", "task"]
_TICKET = re.compile(r"^\s*#?(\d{1,12})\s*$")
_TICKET_URL = re.compile(r"/(?:agent/)?tickets/(\d{1,12})(?:[/?#]|$)")


def field_block(field_id: int) -> str:
    return f"field:{field_id}"


def form_spec(fields: Iterable[FormField]) -> list[dict[str, Any]]:
    """The channel's form fields as the view's private_metadata carries them."""
    return [
        {"id": f.id, "label": f.label, "kind": f.kind, "options": list(f.options), "required": f.required}
        for f in fields
    ]


def metadata(
    *,
    conversation: str,
    channel: str,
    ts: str | None,
    requester: str | None,
    form: list[dict[str, Any]] | None = None,
    origin: Literal["shortcut", "command"] = "shortcut",
) -> dict[str, Any]:
    found: dict[str, Any] = {"conversation": conversation, "channel": channel, "ts": ts, "requester": requester}
    found["origin"] = origin
    if form is not None:
        found["form"] = form
    return found


def _select(options: Iterable[str], initial: str | None) -> StaticSelectElement:
    listed = [Option(value=o, label=o.capitalize()) for o in options]
    chosen = next((o for o in listed if o.value == initial), None)
    return StaticSelectElement(action_id=ACTION, options=listed, initial_option=chosen, placeholder="Choose")


def ticket_modal(
    meta: Mapping[str, Any], *, subject: str = "", description: str = "", priority: str | None = None
) -> dict[str, Any]:
    """The ticket form modal, prefilled with the message's (or the command's) text."""
    blocks: list[Any] = [
        InputBlock(
            block_id=SUBJECT,
            label="Subject",
            element=PlainTextInputElement(
                action_id=ACTION, initial_value=subject[:SUBJECT_LIMIT] or None, max_length=SUBJECT_LIMIT
            ),
        ),
        InputBlock(
            block_id=DESCRIPTION,
            label="Description",
            optional=True,
            element=PlainTextInputElement(
                action_id=ACTION, multiline=True, initial_value=description[:DESCRIPTION_LIMIT] or None
            ),
        ),
        InputBlock(block_id=PRIORITY, label="Priority", element=_select(PRIORITIES, priority or "normal")),
        InputBlock(block_id=TYPE, label="Type", element=_select(TYPES, "question")),
    ]
    for f in meta.get("form") or ():
        if f["kind"] == "select":
            element: Any = _select(f["options"], None)
        else:
            # A plain text input for numbers too: `problems` says what is wrong in the field
            # itself, which Slack's number_input leaves to each client.
            element = PlainTextInputElement(action_id=ACTION, max_length=255)
        blocks.append(
            InputBlock(block_id=field_block(f["id"]), label=f["label"], element=element, optional=not f["required"])
        )
    view = View(
        type="modal",
        callback_id=OPEN_TICKET,
        title="Open a support ticket",
        submit="Open ticket",
        close="Cancel",
        private_metadata=json.dumps(dict(meta), separators=(",", ":")),
        blocks=blocks,
    )
    return view.to_dict()


def add_to_ticket_modal(meta: Mapping[str, Any], excerpt: str) -> dict[str, Any]:
    """Which ticket a message goes to (its number, or its Zendesk link)."""
    quoted = "\n".join("> " + line for line in (excerpt[:500] or "(no text)").splitlines())
    view = View(
        type="modal",
        callback_id=ADD_TO_TICKET,
        title="Add to ticket",
        submit="Add",
        close="Cancel",
        private_metadata=json.dumps(dict(meta), separators=(",", ":")),
        blocks=[
            SectionBlock(text=quoted),
            InputBlock(
                block_id=TICKET,
                label="Ticket number",
                hint="The number (42 or #42) or the ticket's Zendesk link",
                element=PlainTextInputElement(action_id=ACTION, max_length=300),
            ),
        ],
    )
    return view.to_dict()


# --- a submitted view ---------------------------------------------------------------------------


def element_value(element: Mapping[str, Any]) -> Any:
    """One input's value: text for text inputs, the option's value for a select, a list for
    multi-selects, the date for a date picker; None when left empty."""
    if "selected_option" in element:
        return (element["selected_option"] or {}).get("value")
    if "selected_options" in element:
        return [o.get("value") for o in element["selected_options"] or ()]
    for name in ("selected_user", "selected_channel", "selected_conversation", "selected_date"):
        if name in element:
            return element[name]
    for name in ("selected_users", "selected_channels", "selected_conversations"):
        if name in element:
            return list(element[name] or ())
    return element.get("value")


def view_values(view: Mapping[str, Any]) -> dict[str, Any]:
    """A submitted view's inputs, block_id -> value (Threadline's input blocks hold one element each)."""
    values: dict[str, Any] = {}
    for block_id, actions in ((view.get("state") or {}).get("values") or {}).items():
        for element in (actions or {}).values():
            values[block_id] = element_value(element or {})
            break
    return values


def view_metadata(view: Mapping[str, Any]) -> dict[str, Any]:
    try:
        found = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def ticket_number(value: Any) -> int | None:
    """A ticket number from `42`, `#42` or a Zendesk ticket link; None for anything else."""
    text = str(value or "").strip().strip("<>").split("|", 1)[0]
    found = _TICKET.match(text) or _TICKET_URL.search(text)
    return int(found.group(1)) if found else None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def problems(view: Mapping[str, Any]) -> dict[str, str]:
    """What is wrong with a submitted view of Threadline's, block_id -> one line for the person
    ({} when it may go ahead). Slack shows each line under its field and keeps the modal open."""
    callback = str(view.get("callback_id") or "")
    values = view_values(view)
    if callback == ADD_TO_TICKET:
        if ticket_number(values.get(TICKET)) is None:
            return {TICKET: "Give the ticket's number (e.g. 42) or its Zendesk link."}
        return {}
    if callback != OPEN_TICKET:
        return {}
    found: dict[str, str] = {}
    subject = _text(values.get(SUBJECT))
    if not subject:
        found[SUBJECT] = "A ticket needs a subject."
    elif len(subject) > SUBJECT_LIMIT:
        found[SUBJECT] = f"Keep the subject under {SUBJECT_LIMIT} characters (it has {len(subject)})."
    if len(_text(values.get(DESCRIPTION))) > DESCRIPTION_LIMIT:
        found[DESCRIPTION] = f"Keep the description under {DESCRIPTION_LIMIT} characters."
    if values.get(PRIORITY) not in (None, *PRIORITIES):
        found[PRIORITY] = f"Choose one of: {', '.join(PRIORITIES)}."
    if values.get(TYPE) not in (None, *TYPES):
        found[TYPE] = f"Choose one of: {', '.join(TYPES)}."
    for f in view_metadata(view).get("form") or ():
        block = field_block(f["id"])
        value = values.get(block)
        text = _text(value)
        if not text:
            if f.get("required"):
                found[block] = f"{f['label']} is required."
            continue
        if f["kind"] == "number" and _number(text) is None:
            found[block] = f"{f['label']} must be a number."
        elif f["kind"] == "select" and text not in f.get("options", ()):
            found[block] = f"Choose one of: {', '.join(f.get('options', ()))}."
    return found


def _number(text: str) -> int | float | None:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and value not in (float("inf"), float("-inf")) else None


@dataclass(frozen=True)
class TicketForm:
    """A valid ticket form, as the ticket is made of it."""

    subject: str
    description: str
    priority: Priority | None
    ticket_type: TicketType | None
    custom_fields: tuple[tuple[int, str], ...]


def submitted(values: Mapping[str, Any], meta: Mapping[str, Any]) -> TicketForm:
    """The ticket form's values (already validated by `problems`), for the new ticket."""
    fields: list[tuple[int, str]] = []
    for f in meta.get("form") or ():
        text = _text(values.get(field_block(f["id"])))
        if text:
            fields.append((int(f["id"]), text))
    priority, ticket_type = values.get(PRIORITY), values.get(TYPE)
    return TicketForm(
        subject=_text(values.get(SUBJECT))[:SUBJECT_LIMIT],
        description=_text(values.get(DESCRIPTION)),
        priority=priority if priority in PRIORITIES else None,
        ticket_type=ticket_type if ticket_type in TYPES else None,
        custom_fields=tuple(fields),
    )


def submission_answer(payload: Any) -> dict[str, Any] | None:
    """What Slack is answered for an interaction payload before it is stored: for a submitted
    modal with a field in error, `{"response_action": "errors", "errors": {block_id: line}}`
    (the modal stays open, nothing is stored); None for anything that may go ahead. A view too
    malformed to read goes ahead: the router dead-letters it with its reason."""
    if not isinstance(payload, Mapping) or payload.get("type") != "view_submission":
        return None
    view = payload.get("view")
    if not isinstance(view, Mapping):
        return None
    try:
        errors = problems(view)
    except (AttributeError, TypeError, KeyError, ValueError):
        return None
    return {"response_action": "errors", "errors": errors} if errors else None

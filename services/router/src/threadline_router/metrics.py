"""Prometheus metrics of the router (one registry per app, served on /metrics).

- threadline_router_inbound_records_total{kind, decision}: every record the router read and what
  became of it. kind is the event (slack_message, zendesk_comment, result_failed, reminder_tick,
  operator_action, ...), or the source (slack, zendesk, result, ...) for a record that is no event;
  decision is one of DECISIONS.
- threadline_router_commands_total{type}: commands sent to zendesk-sync, by command type.
- threadline_router_loops_total{kind}: records dead-lettered because their commands were past the
  causal depth limit (threadline_common.causality): a chain of effects feeding itself. Alerted on.
- threadline_router_links_rows: conversations in the links table partitions this worker holds.
- threadline_router_bad_rows_total{where}: links-table rows that did not decode, each time one was
  read and skipped (where: `conversations`, the agent routing an event; `reminders`, the due-time
  index reading a row).
- threadline_router_reminder_scan_seconds: time each reminder tick spends finding what is due
  (a read of the due-time index, so it follows the reminders due, not the table's size).
- threadline_router_reminders_due_total: conversations a reminder tick found due (each is sent a
  tick; the conversations agent decides).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, Summary

from threadline_router.inbound import (
    RESULT_KINDS,
    Inbound,
    ReminderTick,
    SlackDelete,
    SlackEdit,
    SlackJoin,
    SlackMessage,
    SlackReaction,
    SyncResult,
    ZendeskTicketEvent,
)
from threadline_router.rules import Decision, FollowDecision

Outcome = Literal["commands", "recorded", "no_effect", "ignored", "dead_lettered"]
DECISIONS: tuple[Outcome, ...] = ("commands", "recorded", "no_effect", "ignored", "dead_lettered")

_KINDS: dict[type, str] = {
    SlackMessage: "slack_message",
    SlackEdit: "slack_edit",
    SlackDelete: "slack_delete",
    SlackReaction: "slack_reaction",
    SlackJoin: "slack_join",
    ReminderTick: "reminder_tick",
}
# Bounded label values: anything else a record claims to be is counted as *_other.
_ZENDESK_KINDS = frozenset({"created", "comment", "status"})
_RESULT_KINDS = RESULT_KINDS


def kind_of(event: Inbound) -> str:
    if isinstance(event, ZendeskTicketEvent):
        return f"zendesk_{event.kind if event.kind in _ZENDESK_KINDS else 'other'}"
    if isinstance(event, SyncResult):
        return f"result_{event.kind if event.kind in _RESULT_KINDS else 'other'}"
    # Any other event type (an operator's action, one added later) by its class: still bounded.
    return _KINDS.get(type(event)) or re.sub(r"(?<!^)(?=[A-Z])", "_", type(event).__name__).lower()


def outcome_of(decision: Decision | FollowDecision, changed_state: bool) -> Outcome:
    """commands: something to do in Zendesk or Slack; recorded: only the table or the activity
    stream changed; no_effect: nothing at all (a duplicate, a message of no conversation)."""
    if decision.commands:
        return "commands"
    if decision.activity or changed_state:
        return "recorded"
    return "no_effect"


class Metrics:
    def __init__(self, table_rows: Callable[[], float] | None = None) -> None:
        self.registry = CollectorRegistry()
        self.inbound = Counter(
            "threadline_router_inbound_records",
            "Records read, by event kind and decision (" + ", ".join(DECISIONS) + ")",
            ["kind", "decision"],
            registry=self.registry,
        )
        self.commands = Counter(
            "threadline_router_commands",
            "Commands sent to zendesk-sync, by type",
            ["type"],
            registry=self.registry,
        )
        self.loops = Counter(
            "threadline_router_loops",
            "Records whose commands were past the causal depth limit: dead-lettered as a loop",
            ["kind"],
            registry=self.registry,
        )
        self.links_rows = Gauge(
            "threadline_router_links_rows",
            "Conversations in the links table partitions this worker holds",
            registry=self.registry,
        )
        self.bad_rows = Counter(
            "threadline_router_bad_rows",
            "Links-table rows that did not decode and were skipped, by reader (conversations, reminders)",
            ["where"],
            registry=self.registry,
        )
        self.reminder_scan = Summary(
            "threadline_router_reminder_scan_seconds",
            "Time a reminder tick spends finding the conversations due (the due-time index)",
            registry=self.registry,
        )
        self.reminders_due = Counter(
            "threadline_router_reminders_due",
            "Conversations a reminder tick found due a reminder",
            registry=self.registry,
        )
        if table_rows is not None:
            # Counted when scraped, so it is right after a rebalance or a recovery too.
            self.links_rows.set_function(table_rows)

    def record(self, kind: str, decision: Outcome) -> None:
        self.inbound.labels(kind, decision).inc()

"""Fault drills share the pipeline of tests/pipeline (ingest, router and zendesk-sync as processes,
the sandboxes in this process) and a ledger of what each conversation should have caused."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from pipeline.conftest import (  # noqa: F401 - fixtures
    Pipeline,
    pipeline,
    pipeline_channels,
    pipeline_settings,
    wait_until,
)

MEMBERS = {"C0SUPPORT": ("alice", "bob", "sam"), "C0INFRA": ("alice", "sam")}


@dataclass
class Ledger:
    """What people did in Slack, and what each of those acts must have caused exactly once."""

    replies: int
    roots: list[tuple[str, str]] = field(default_factory=list)

    def converse(self, p: Pipeline, i: int, tag: str, post: Callable[..., str] | None = None) -> None:
        """One thread and its replies, posted by the channel's people (through slack_sdk by default)."""
        post = post or (lambda name, **kw: p.user(name).chat_postMessage(**kw)["ts"])
        channel = ("C0SUPPORT", "C0INFRA")[i % 2]
        people = MEMBERS[channel]
        ts = post(people[i % len(people)], channel=channel, text=f"{tag} issue {i}")
        self.roots.append((channel, ts))
        for n in range(self.replies):
            post(people[(i + n + 1) % len(people)], channel=channel, thread_ts=ts, text=f"{tag} reply {n} to issue {i}")

    def counts(self, p: Pipeline) -> Counter[str]:
        tickets: dict[str, list[int]] = {}
        for t in p.zendesk.tickets():
            tickets.setdefault(t["external_id"], []).append(t["id"])
        out: Counter[str] = Counter()
        for channel, ts in self.roots:
            found = tickets.get(f"T0SANDBOX:{channel}:{ts}", [])
            out["lost"] += not found
            out["duplicated"] += max(0, len(found) - 1)
            comments = len(p.zendesk.comments_of(found[0])) if found else 0
            out["lost"] += max(0, 1 + self.replies - comments) if found else self.replies
            out["duplicated"] += max(0, comments - 1 - self.replies)
            confirmations = sum(1 for m in p.slack.thread(channel, ts) if m.get("bot_id") and m["ts"] != ts)
            out["lost"] += confirmations == 0
            out["duplicated"] += max(0, confirmations - 1)
            out["tickets"] += min(len(found), 1)
        return out

    def complete(self, p: Pipeline) -> bool:
        return self.counts(p)["lost"] == 0

"""Fault drill: SIGKILL the router and zendesk-sync while conversations flow, in every phase of the
work: while tickets are opened, while replies become comments, and while agents' answers go back to
Slack. Afterwards every thread has exactly one ticket, every reply exactly one comment, and every
agent comment exactly one Slack post: nothing lost, nothing doubled.

Sized to prove that in the suite: each processor is killed once in each phase (six kills), each
kill at a quarter (zendesk-sync) or half (the router) of the phase's work and while the victim
holds records it has not committed, so that what it held when it died (read but not committed, done
but not acknowledged) is met again after its restart, with half the phase still to flow through it.
More conversations or kills only repeat the same kinds of kill (the drill used to make 12 random
kills over 200 conversations, about three minutes). THREADLINE_CRASH_DRILL_ROUNDS=N repeats the
schedule N times over N times the conversations (a longer soak, outside `make test`)."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest

from threadline_devstack import services
from threadline_devstack.kafka_state import GroupLag

from .conftest import Pipeline, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROUNDS = int(os.environ.get("THREADLINE_CRASH_DRILL_ROUNDS", "1"))
# 48 threads of three messages, a third of them answered by an agent: enough work in each phase for
# a kill at a quarter and at a half of it to leave most of the phase for after the restart.
CONVERSATIONS = 48 * ROUNDS
REPLIES = 2
ANSWERED = CONVERSATIONS // 3
HOLD_WAIT_SECONDS = 20.0
GROUP = {"router": "threadline-router", "zendesk-sync": "threadline-zendesk-sync"}


def tickets_by_external(p: Pipeline) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for t in p.zendesk.tickets():
        found.setdefault(t["external_id"], []).append(t["id"])
    return found


def replies_on_tickets(p: Pipeline) -> int:
    return sum(len(p.zendesk.comments_of(t["id"])) - 1 for t in p.zendesk.tickets())


def answers_in_slack(p: Pipeline, roots: list[tuple[str, str]]) -> int:
    return sum(
        any(m.get("bot_id") and "agent answer" in m["text"] for m in p.slack.thread(c, ts))
        for c, ts in roots[:ANSWERED]
    )


class Killer:
    """Kills a processor each time the work reaches a mark: the schedule follows the pipeline's
    progress, not a clock, so each kill lands in its phase however fast or slow the machine is.
    After each kill it waits until the victim has its partitions again (its /readyz): killing
    faster than a rebalance completes measures the broker's session timeout, not us."""

    def __init__(self, p: Pipeline, stop: threading.Event) -> None:
        self.p, self.stop = p, stop
        self.kills: list[tuple[str, str, int]] = []  # (victim, phase, records it had not committed)
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None

    def run(self, phase: str, progress: Callable[[], int], total: int, topics: dict[str, list[str]]) -> None:
        marks = [
            (name, total * k // (4 * ROUNDS))
            for r in range(ROUNDS)
            for k, name in ((4 * r + 1, "zendesk-sync"), (4 * r + 2, "router"))
        ]

        def kill_at_marks() -> None:
            try:
                for name, mark in marks:
                    while progress() < max(1, mark):
                        if self.stop.wait(0.1):
                            return
                    lag = self.holding(name, topics[name])
                    self.p.restart(name, kill=True)
                    self.kills.append((name, phase, lag))
                    services.wait_http(f"http://127.0.0.1:{self.p.ports[name]}/readyz", self.p.processes[name], 90)
            except BaseException as exc:  # told by the test, after the join
                self.error = exc

        self.thread = threading.Thread(target=kill_at_marks, daemon=True)
        self.thread.start()

    def holding(self, name: str, topics: list[str]) -> int:
        """Records the victim has not committed, once it has some (a little while at most: one that
        keeps up commits every second, so its lag lasts under a second): killed then, it dies with
        work in hand."""
        lag = GroupLag(self.p.kafka_bootstrap, GROUP[name], topics)
        try:
            deadline = time.monotonic() + HOLD_WAIT_SECONDS
            while not self.stop.is_set():
                held = lag.now()
                if held or time.monotonic() > deadline:
                    return held
                time.sleep(0.01)
            return 0
        finally:
            lag.close()

    def join(self) -> None:
        if self.thread is not None:
            self.thread.join()
        if self.error is not None:
            raise self.error


@pytest.mark.timeout(300 * ROUNDS)
def test_sigkill_during_traffic_loses_and_doubles_nothing(pipeline: Pipeline, request: pytest.FixtureRequest):
    p = pipeline
    t = p.topics
    reads = {"router": [t.slack_events, t.zendesk_events, t.results, t.router_inbound], "zendesk-sync": [t.commands]}
    members = {
        "C0SUPPORT": [p.user(n) for n in ("alice", "bob", "sam")],
        "C0INFRA": [p.user(n) for n in ("alice", "sam")],
    }
    channels = ["C0SUPPORT", "C0INFRA"]
    stop = threading.Event()
    killers: list[Killer] = []

    def stop_killing() -> None:
        # Before the pipeline's teardown: a restart still under way would leave an orphan process.
        stop.set()
        for k in killers:
            if k.thread is not None:
                k.thread.join()

    request.addfinalizer(stop_killing)

    def chaos(phase: str, progress: Callable[[], int], total: int) -> Killer:
        killer = Killer(p, stop)
        killers.append(killer)
        killer.run(phase, progress, total, reads)
        return killer

    # Phase 1, tickets: the processors are killed as the tickets are opened.
    tickets_chaos = chaos("tickets", lambda: len(p.zendesk.tickets()), CONVERSATIONS)
    roots: list[tuple[str, str]] = []
    for i in range(CONVERSATIONS):
        channel = channels[i % 2]
        people = members[channel]
        roots.append((channel, people[i % len(people)].chat_postMessage(channel=channel, text=f"issue {i}")["ts"]))
    tickets_chaos.join()
    # Phase 2, comments: killed again as the replies reach their tickets.
    comments_chaos = chaos("comments", lambda: replies_on_tickets(p), REPLIES * CONVERSATIONS)
    for n in range(REPLIES):
        for i, (channel, ts) in enumerate(roots):
            people = members[channel]
            people[(i + n + 1) % len(people)].chat_postMessage(
                channel=channel, thread_ts=ts, text=f"reply {n} to issue {i}"
            )

    def complete() -> bool:
        found = tickets_by_external(p)
        return all(
            len(found.get(f"T0SANDBOX:{c}:{ts}", [])) == 1
            and len(p.zendesk.comments_of(found[f"T0SANDBOX:{c}:{ts}"][0])) >= 1 + REPLIES
            for c, ts in roots
        )

    comments_chaos.join()
    wait_until("every ticket and comment", complete, timeout=150 * ROUNDS)
    found = tickets_by_external(p)

    # Phase 3, answers: killed as agents' answers reach Slack.
    answers_chaos = chaos("answers", lambda: answers_in_slack(p, roots), ANSWERED)
    for i, (channel, ts) in enumerate(roots[:ANSWERED]):
        p.zendesk.agent_comment(found[f"T0SANDBOX:{channel}:{ts}"][0], f"agent answer {i}")
    answers_chaos.join()
    wait_until("every agent answer in Slack", lambda: answers_in_slack(p, roots) == ANSWERED, timeout=120 * ROUNDS)
    p.settle(120 * ROUNDS)  # everything every restart replayed has been consumed: a duplicate would be there now

    kills = [(name, phase) for k in killers for name, phase, _ in k.kills]
    assert len(kills) == 6 * ROUNDS, f"the drill should kill {6 * ROUNDS} times, killed {kills}"
    assert Counter(kills) == {(n, ph): ROUNDS for n in GROUP for ph in ("tickets", "comments", "answers")}, kills
    empty_handed = [(name, phase) for k in killers for name, phase, lag in k.kills if lag == 0]
    assert empty_handed == [], f"killed holding no work, the drill proves less: {empty_handed}"
    found = tickets_by_external(p)
    assert sorted(found) == sorted(f"T0SANDBOX:{c}:{ts}" for c, ts in roots)
    doubled_tickets = {k: v for k, v in found.items() if len(v) != 1}
    assert doubled_tickets == {}
    for i, (channel, ts) in enumerate(roots):
        [ticket_id] = found[f"T0SANDBOX:{channel}:{ts}"]
        bodies = Counter(c["body"] for c in p.zendesk.comments_of(ticket_id))
        expected = [f"reply {n} to issue {i}" for n in range(REPLIES)]
        assert [bodies[e] for e in expected] == [1] * REPLIES, (i, bodies)
        assert sum(bodies.values()) == 1 + REPLIES + (1 if i < ANSWERED else 0)
        posts = [m["text"] for m in p.slack.thread(channel, ts) if m.get("bot_id")]
        assert sum("opened ticket" in t for t in posts) == 1, (i, posts)
        assert sum("agent answer" in t for t in posts) == (1 if i < ANSWERED else 0), (i, posts)
    held = [f"{name} in {phase} holding {lag}" for k in killers for name, phase, lag in k.kills]
    print(f"\ndrill: {CONVERSATIONS} conversations, kills: {', '.join(held)}; lost 0, duplicated 0")

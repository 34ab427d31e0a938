"""Fault drill: SIGKILL the router and zendesk-sync at random moments while conversations flow.
Afterwards every thread has exactly one ticket, every reply exactly one comment, and every agent
comment exactly one Slack post: nothing lost, nothing doubled."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter

import pytest

from .conftest import Pipeline, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CONVERSATIONS = 200
REPLIES = 2
KILLS = 6


def killer(p: Pipeline, stop: threading.Event, log: list[str], rng: random.Random) -> None:
    """Kill each processor in turn at a random moment. Between kills the victim gets time to rejoin its
    consumer group: killing faster than a rebalance completes measures the broker's session timeout, not us."""
    for n in range(KILLS):
        if stop.wait(rng.uniform(1.0, 6.0)):
            return
        name = ("router", "zendesk-sync")[n % 2]
        p.restart(name, kill=True)
        log.append(name)


@pytest.mark.timeout(420)
def test_sigkill_during_traffic_loses_and_doubles_nothing(pipeline: Pipeline, request: pytest.FixtureRequest):
    p = pipeline
    rng = random.Random(20261123)
    members = {
        "C0SUPPORT": [p.user(n) for n in ("alice", "bob", "sam")],
        "C0INFRA": [p.user(n) for n in ("alice", "sam")],
    }
    channels = ["C0SUPPORT", "C0INFRA"]
    kills: list[str] = []
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def stop_killing() -> None:
        # Before the pipeline's teardown: a restart still under way would leave an orphan process.
        stop.set()
        for thread in threads:
            thread.join()

    request.addfinalizer(stop_killing)

    def chaos() -> threading.Thread:
        thread = threading.Thread(target=killer, args=(p, stop, kills, rng), daemon=True)
        thread.start()
        threads.append(thread)
        return thread

    slack_to_zendesk_chaos = chaos()

    roots: list[tuple[str, str]] = []
    for i in range(CONVERSATIONS):
        channel = channels[i % 2]
        people = members[channel]
        roots.append((channel, people[i % len(people)].chat_postMessage(channel=channel, text=f"issue {i}")["ts"]))
    for n in range(REPLIES):
        for i, (channel, ts) in enumerate(roots):
            people = members[channel]
            people[(i + n + 1) % len(people)].chat_postMessage(
                channel=channel, thread_ts=ts, text=f"reply {n} to issue {i}"
            )

    def tickets_by_external() -> dict[str, list[int]]:
        found: dict[str, list[int]] = {}
        for t in p.zendesk.tickets():
            found.setdefault(t["external_id"], []).append(t["id"])
        return found

    def complete() -> bool:
        found = tickets_by_external()
        return all(
            len(found.get(f"T0SANDBOX:{c}:{ts}", [])) == 1
            and len(p.zendesk.comments_of(found[f"T0SANDBOX:{c}:{ts}"][0])) >= 1 + REPLIES
            for c, ts in roots
        )

    wait_until("every ticket and comment", complete, timeout=200)
    found = tickets_by_external()
    slack_to_zendesk_chaos.join()  # likewise; the killer's waits are short next to the wait above
    answered_count = CONVERSATIONS // 3
    zendesk_to_slack_chaos = chaos()
    for i, (channel, ts) in enumerate(roots[:answered_count]):
        p.zendesk.agent_comment(found[f"T0SANDBOX:{channel}:{ts}"][0], f"agent answer {i}")

    def answered() -> bool:
        return all(
            any(f"agent answer {i}" in m["text"] for m in p.slack.thread(c, ts))
            for i, (c, ts) in enumerate(roots[:answered_count])
        )

    zendesk_to_slack_chaos.join()  # every kill happens, whether or not the answers already arrived
    wait_until("every agent answer in Slack", answered, timeout=150)
    time.sleep(5)  # anything still in flight after a restart would show up as a duplicate now
    p.slack.wait_for_deliveries()

    assert len(kills) == 2 * KILLS, f"the drill should kill {2 * KILLS} times, killed {kills}"
    found = tickets_by_external()
    assert sorted(found) == sorted(f"T0SANDBOX:{c}:{ts}" for c, ts in roots)
    doubled_tickets = {k: v for k, v in found.items() if len(v) != 1}
    assert doubled_tickets == {}
    for i, (channel, ts) in enumerate(roots):
        [ticket_id] = found[f"T0SANDBOX:{channel}:{ts}"]
        bodies = Counter(c["body"] for c in p.zendesk.comments_of(ticket_id))
        expected = [f"reply {n} to issue {i}" for n in range(REPLIES)]
        assert [bodies[e] for e in expected] == [1] * REPLIES, (i, bodies)
        assert sum(bodies.values()) == 1 + REPLIES + (1 if i < answered_count else 0)
        posts = [m["text"] for m in p.slack.thread(channel, ts) if m.get("bot_id")]
        assert sum("opened ticket" in t for t in posts) == 1, (i, posts)
        assert sum("agent answer" in t for t in posts) == (1 if i < answered_count else 0), (i, posts)
    print(f"\ndrill: {CONVERSATIONS} conversations, kills {Counter(kills)}, lost 0, duplicated 0")

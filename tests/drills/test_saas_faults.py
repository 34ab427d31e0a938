"""Fault drill: Zendesk answers 429, 500 and 503 for a while (some of the failing requests have done
their work, as when a response is lost), and Slack rate-limits the bot. Afterwards every thread
has one ticket, every reply one comment and every thread one confirmation: nothing lost, nothing
doubled, and zendesk-sync really met every kind of fault."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from threadline_sandbox.slack.server import METHODS, SlackError

from .conftest import Ledger, Pipeline, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ZENDESK_PHASE = 10
SLACK_PHASE = 6
CONVERSATIONS = ZENDESK_PHASE + SLACK_PHASE
REPLIES = 1


@pytest.fixture
def pipeline_settings() -> dict[str, dict[str, str]]:
    # Short pauses: the faults last seconds (no command ever gives up on a transient fault).
    return {"zendesk-sync": {"max_backoff_seconds": "1"}}


def retries(p: Pipeline) -> float:
    import urllib.request

    url = f"http://127.0.0.1:{p.ports['zendesk-sync']}/metrics"
    with urllib.request.urlopen(url, timeout=5) as r:
        text = r.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("threadline_zendesk_sync_retries_total")
    )


@pytest.mark.timeout(300)
def test_zendesk_errors_and_slack_rate_limits_lose_and_double_nothing(pipeline: Pipeline):
    p = pipeline
    ledger = Ledger(REPLIES)
    limited: Counter[str] = Counter()
    faults = p.slack._faults

    def counting_faults(method: str) -> None:  # a spy on the double: which calls Slack refused
        try:
            faults(method)
        except SlackError as exc:
            limited[f"{method} {exc.status}"] += 1
            raise

    p.slack._faults = counting_faults  # type: ignore[method-assign]

    def people_post(name: str, **params: str) -> str:
        # Past the sandbox's HTTP layer: the limit drilled is the bot's, and Slack's clients would retry anyway.
        with p.slack._lock:
            return str(METHODS["chat.postMessage"](p.slack, p.slack.ws.tokens[p.slack.user_token(name)], params)["ts"])

    # Zendesk: a third of the requests fail, some after doing their work (a lost response); a tight limit adds 429s.
    p.zendesk.set_knobs(
        error_rate=0.35,
        error_status=503,
        errors_after_commit=True,
        rate_limit_per_minute=30,
        rate_limit_window_seconds=2,
    )
    for i in range(ZENDESK_PHASE):
        if i == ZENDESK_PHASE // 2:
            p.zendesk.set_knobs(error_status=500, errors_after_commit=False)
        ledger.converse(p, i, "faults", people_post)
    wait_until("retries", lambda: retries(p) >= 5, timeout=60)
    p.zendesk.set_knobs(error_rate=0.0, rate_limit_per_minute=700, rate_limit_window_seconds=60.0)
    wait_until("every ticket, comment and confirmation", lambda: ledger.complete(p), timeout=120)

    # Slack: the bot's posts get 429 with a Retry-After of a few seconds (the window already holds an old
    # call), until the limit is lifted.
    p.slack.knobs.rate_limit_per_minute = 1
    p.slack._calls["chat.postMessage"] = [time.monotonic() - 55]
    for i in range(ZENDESK_PHASE, ZENDESK_PHASE + SLACK_PHASE):
        ledger.converse(p, i, "faults", people_post)
    wait_until("Slack's 429", lambda: limited["chat.postMessage 429"] > 0, timeout=60)
    p.slack.knobs.rate_limit_per_minute = 0
    wait_until("every confirmation despite Slack's limit", lambda: ledger.complete(p), timeout=120)
    p.settle()  # every record consumed, every webhook delivered: a duplicate would be there now

    counts = ledger.counts(p)
    assert retries(p) >= 5, "the faults should have made zendesk-sync retry"
    assert limited["chat.postMessage 429"] > 0, "Slack should have rate-limited the bot's posts"
    assert counts["tickets"] == CONVERSATIONS
    assert (counts["lost"], counts["duplicated"]) == (0, 0), counts
    print(
        f"\ndrill: Zendesk 429/500/503 and Slack 429, {CONVERSATIONS} conversations, "
        f"{retries(p):.0f} retries, {limited['chat.postMessage 429']} Slack 429s, lost {counts['lost']}, duplicated {counts['duplicated']}"
    )

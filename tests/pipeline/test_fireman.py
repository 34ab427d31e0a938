"""The rotating fireman on the whole pipeline: the support team is a Slack user group (read by
zendesk-sync through usergroups.users.list, told to the router), taking turns daily. The clock
crosses a real hand-over a few seconds after the stack starts: the channel hears it once, however
many ticks follow; a new request then names the new fireman, and a team member's own post opens
nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from threadline_devstack.kafka_state import caught_up, end_offsets
from threadline_sandbox.zendesk import ZendeskSandbox

from .conftest import Pipeline, wait_until

pytestmark = pytest.mark.integration

# Sam (U0SRE) takes over from Bob (U0BOB) this long after the channels file is written: most
# often after the stack is up, so that the router crosses it while ticking. When a slow start
# comes after it, the router's first tick announces Sam's period all the same (the hand-over is
# due its announcement, once): the test holds either way, without waiting out a margin. Crossing
# the boundary at its exact instant is for the rule tests, whose clock is the test's.
HANDOVER_AFTER = dt.timedelta(seconds=6)
HANDOVER: list[dt.datetime] = []


@pytest.fixture
def pipeline_channels():
    def channels(zendesk: ZendeskSandbox) -> str:
        handover = (dt.datetime.now(dt.UTC) + HANDOVER_AFTER).replace(microsecond=0)
        HANDOVER[:] = [handover]
        start = (handover - dt.timedelta(days=1)).replace(tzinfo=None)  # period 0 (Bob's) began yesterday
        return f"""
channels:
  C0SUPPORT:
    name: support
    zendesk: {{group_id: {zendesk.group_id}}}
    team: [S0SUPPORT]
    rotation: {{people: team, period: daily, start: "{start.isoformat()}", timezone: UTC}}
"""

    return channels


@pytest.fixture
def pipeline_settings(tmp_path):
    # zendesk-sync reads the same channels file as the router (running_pipeline writes it there).
    sync = {"channels_file": str(tmp_path / "channels.yaml"), "usergroup_refresh_seconds": "1"}
    return {"router": {"handover_interval_seconds": "0.5"}, "zendesk-sync": sync}


def on_duty_posts(p: Pipeline) -> list[str]:
    return [m["text"] for m in p.slack.channel_messages("C0SUPPORT") if "is on duty until" in m.get("text", "")]


def test_the_hand_over_is_announced_once_and_new_requests_name_the_new_fireman(pipeline: Pipeline):
    p = pipeline
    [handover] = HANDOVER
    sam_takes_over = wait_until(
        "the hand-over to Sam",
        lambda: [t for t in on_duty_posts(p) if t.startswith(":fire_engine: <@U0SRE>")] or None,
        timeout=90,
    )
    assert dt.datetime.now(dt.UTC) >= handover
    [text] = sam_takes_over
    tomorrow = int((handover + dt.timedelta(days=1)).timestamp())
    assert text.startswith(f":fire_engine: <@U0SRE> is on duty until <!date^{tomorrow}^")
    assert text.endswith("(after <@U0BOB>).")

    # A customer's request names Sam; Bob's own post (he is in the group) is no request.
    root = p.user("alice").chat_postMessage(channel="C0SUPPORT", text="The badge reader refuses me")["ts"]
    p.user("bob").chat_postMessage(channel="C0SUPPORT", text="FYI: badge readers restart at noon")
    named = wait_until(
        "the fireman named in the thread",
        lambda: [m["text"] for m in p.slack.thread("C0SUPPORT", root) if "On duty now" in m.get("text", "")] or None,
    )
    assert named == [":fire_engine: On duty now: <@U0SRE>."]

    # Hand-over ticks come every half second, so the pipeline never falls quiet (settle() would
    # wait for a lull): instead the router handles every record written until now, ticks after
    # the hand-over among them, then zendesk-sync performs every command that came of them.
    for group, topics in p.consumers().items():  # the router first, then zendesk-sync
        ends = end_offsets(p.kafka_bootstrap, topics)
        wait_until(
            f"{group} to handle what was written",
            lambda g=group, t=topics, e=ends: caught_up(p.kafka_bootstrap, g, t, e),
        )
    p.slack.wait_for_deliveries()
    # It was announced once. (Bob's period may have been announced too, if the router ticked
    # before the hand-over: once.)
    posts = on_duty_posts(p)
    assert [t for t in posts if t.startswith(":fire_engine: <@U0SRE>")] == [text]
    assert len([t for t in posts if t.startswith(":fire_engine: <@U0BOB>")]) <= 1
    assert len(list(p.zen().tickets())) == 1, "Bob's post opened nothing"

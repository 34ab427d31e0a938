"""The router's flow control keeps the events its agents were handed while it finished a recovery.

faust resumes the flow once more at the end of every recovery, after the seek to committed offsets,
while the fetcher is already delivering records: emptying the agents' queues there lost records for
good (their partition then stalled until the next rebalance). See `KeepDeliveredEvents`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from threadline_common.settings import KafkaSettings
from threadline_router.app import create_app
from threadline_router.settings import RouterSettings

pytestmark = pytest.mark.unit


@pytest.fixture
def app(tmp_path: Path):
    channels = tmp_path / "channels.yaml"
    channels.write_text("channels:\n  C1: {name: support}\n")
    settings = RouterSettings(channels_file=channels, store="memory://", data_dir=tmp_path / "router")
    # Never contacted: the app is built, not started.
    return create_app(settings, KafkaSettings(bootstrap_servers="127.0.0.1:9"))


def agent_queue(app):
    # Built the way faust builds every agent's and stream's queue.
    return app.FlowControlQueue(maxsize=16, clear_on_resume=True)


async def test_events_handed_over_while_recovery_ends_are_kept(app) -> None:
    queue = agent_queue(app)
    app.flow_control.resume()  # the changelog is being read: the fetcher runs
    queue.put_nowait("slack.events[1]@7")
    queue.put_nowait("slack.events[1]@8")
    app.flow_control.resume()  # recovery completed, after the seek
    assert [queue.get_nowait(), queue.get_nowait()] == ["slack.events[1]@7", "slack.events[1]@8"]


async def test_a_rebalance_still_empties_the_queues(app) -> None:
    queue = agent_queue(app)
    app.flow_control.resume()
    queue.put_nowait("slack.events[0]@3")
    # What faust does when partitions are revoked: nothing of the old assignment is processed.
    app.flow_control.suspend()
    app.flow_control.clear()
    assert queue.empty()
    queue.put_nowait("left over while suspended")
    app.flow_control.resume()
    assert queue.empty()
    assert app.flow_control.is_active()

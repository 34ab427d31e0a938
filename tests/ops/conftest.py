import pytest
from pipeline.conftest import pipeline, pipeline_channels, pipeline_settings  # noqa: F401 - the pipeline's fixtures, unchanged

from threadline_common.channels import parse_channels
from threadline_router.rules import Context


@pytest.fixture
def ctx() -> Context:
    channels = parse_channels(
        {
            "defaults": {"zendesk": {"tags": ["slack"]}},
            "channels": {
                "C1": {
                    "name": "support",
                    "zendesk": {"group_id": 10},
                    # Always closed: a live request hears when the team is back, history must not.
                    "business_hours": {"days": ["sun"], "start": "00:00", "end": "00:01"},
                    "out_of_hours": {"message": "We are away; back {opens}."},
                    "reminders": {"after_minutes": 30},
                },
                "C2": {
                    "name": "infra",
                    "auto_open": False,
                    "emoji": {"open": {"names": ["ticket"], "who": ["U0SRE"]}},
                },
            },
        }
    )
    return Context(channels=channels, bot_user_id="UBOT", bot_id="BBOT", now="2026-11-23T10:00:00Z")

"""Ingest settings from the environment: names, lists, and mistakes caught at start."""

import pytest

from threadline_common.settings import SettingsError, load_settings
from threadline_ingest.settings import IngestSettings

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    import os

    for name in list(os.environ):
        if name.startswith("THREADLINE_INGEST_"):
            monkeypatch.delenv(name)


def test_settings_come_from_threadline_ingest_variables(monkeypatch):
    monkeypatch.setenv("THREADLINE_INGEST_SLACK_SIGNING_SECRET", "8f742231b10e8888abcd99yyyzzz85a5")
    monkeypatch.setenv("THREADLINE_INGEST_SLACK_TEAM_IDS", "T1, E2,")
    monkeypatch.setenv("THREADLINE_INGEST_MONITORED_CHANNELS", "C1,C2")
    monkeypatch.setenv("THREADLINE_INGEST_ACK_TIMEOUT_SECONDS", "1.5")
    monkeypatch.setenv("THREADLINE_INGEST_PORT", "9000")
    settings = load_settings(IngestSettings)
    assert settings.slack_team_ids == ["T1", "E2"]
    assert settings.monitored_channels == ["C1", "C2"]
    assert settings.slack_app_ids == []
    assert (settings.ack_timeout_seconds, settings.port, settings.max_body_bytes) == (1.5, 9000, 1024 * 1024)
    assert not settings.socket_mode
    assert "8f74" not in repr(settings)


def test_socket_mode_alone_needs_no_signing_secret(monkeypatch):
    monkeypatch.setenv("THREADLINE_INGEST_SLACK_APP_TOKEN", "xapp-1-A111-222-abc")
    assert load_settings(IngestSettings).socket_mode


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "SLACK_SIGNING_SECRET"),
        ({"THREADLINE_INGEST_SLACK_APP_TOKEN": "xoxb-123"}, "SLACK_APP_TOKEN"),
        ({"THREADLINE_INGEST_SLACK_SIGNING_SECRET": "changeme"}, "SLACK_SIGNING_SECRET"),
        ({"THREADLINE_INGEST_SLACK_SIGNING_SECRET": "abcdefgh", "THREADLINE_INGEST_ACK_TIMEOUT_SECONDS": "3"}, "ACK"),
        (
            {
                "THREADLINE_INGEST_SLACK_SIGNING_SECRET": "abcdefgh",
                "THREADLINE_INGEST_ZENDESK_BASIC_AUTH_USERNAME": "u",
            },
            "BASIC",
        ),
    ],
)
def test_mistakes_stop_the_service_at_start_with_a_message_naming_the_variable(monkeypatch, capsys, env, named):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError):
        load_settings(IngestSettings)
    assert named in capsys.readouterr().err


def test_direct_messages_are_off_unless_switched_on(monkeypatch):
    from threadline_common.contracts import Topics
    from threadline_ingest.metrics import Metrics
    from threadline_ingest.service import Ingest

    monkeypatch.setenv("THREADLINE_INGEST_SLACK_SIGNING_SECRET", "8f742231b10e8888abcd99yyyzzz85a5")
    assert load_settings(IngestSettings).direct_messages is False
    monkeypatch.setenv("THREADLINE_INGEST_DIRECT_MESSAGES", "true")
    settings = load_settings(IngestSettings)
    assert settings.direct_messages is True
    assert Ingest(settings, Topics(), Metrics()).policy.direct_messages is True

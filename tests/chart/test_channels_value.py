"""The chart's `channels` value is the services' channel routing: a file the chart accepts is one
threadline_common.channels loads as it is, and a wrong key fails at `helm template` with its path."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from chart.support import ROOT, Helm

from threadline_common.channels import ChannelConfigError, load_channels, parse_channels

pytestmark = pytest.mark.chart

EXAMPLE = ROOT / "examples" / "channels.yaml"


def render(helm: Helm, tmp_path: Path, values_text: str, *args: str, check: bool = True) -> Any:
    values = tmp_path / "values.yaml"
    values.write_text(values_text)
    return helm.template("--values", str(values), *args, check=check)


def test_the_example_channels_file_as_the_value_is_what_the_services_load(helm: Helm, tmp_path: Path) -> None:
    # As an operator pastes the file under `channels:`, comments and all.
    values = "channels:\n" + textwrap.indent(EXAMPLE.read_text(), "  ")
    docs = [d for d in yaml.safe_load_all(render(helm, tmp_path, values).stdout) if d]
    [configmap] = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-channels")]
    mounted = tmp_path / "channels.yaml"
    mounted.write_text(configmap["data"]["channels.yaml"])

    loaded = load_channels(mounted)
    assert loaded == load_channels(EXAMPLE)
    infra = loaded.rules_for("C0INFRA")
    assert infra is not None and infra.business_hours.end.isoformat() == "16:00:00"
    assert infra.open_emoji is not None and infra.open_emoji.who == ("U0SRE", "U0BOB")
    support = loaded.rules_for("C0SUPPORT")
    assert support is not None and support.rotation is not None and support.rotation.period == "weekly"
    assert support.team == ("U0BOB", "U0SRE", "S0SUPPORT") and infra.on_call is not None
    assert support.zendesk.custom_fields == {360001: "slack"}

    workloads = {
        d["metadata"]["name"].rsplit("-", 1)[-1]: d for d in docs if d["kind"] in {"Deployment", "StatefulSet"}
    }
    ingest_env = {e["name"]: e for e in workloads["ingest"]["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert ingest_env["THREADLINE_INGEST_MONITORED_CHANNELS"]["value"] == "C0INFRA,C0SUPPORT"
    # The example names on-call people: zendesk-sync cannot start without the PagerDuty token.
    sync_env = {e["name"]: e for e in workloads["sync"]["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert sync_env["THREADLINE_ZENDESK_SYNC_PAGERDUTY_API_TOKEN"]["valueFrom"]["secretKeyRef"]["optional"] is False
    # zendesk-sync reads the same file: the user groups its teams and rotations name.
    assert sync_env["THREADLINE_ZENDESK_SYNC_CHANNELS_FILE"]["value"] == "/etc/threadline/channels/channels.yaml"


SUPPORT: dict[str, Any] = {"name": "support", "zendesk": {"group_id": 1003}}


def with_channel(**rules: Any) -> dict[str, Any]:
    return {"channels": {"C0SUPPORT": {**SUPPORT, **rules}}}


# Each: a channels value, and what `helm template` must say about it.
WRONG = {
    "misspelt key": (
        with_channel(auto_opne=False),
        "at '/channels/channels/C0SUPPORT': additional properties 'auto_opne'",
    ),
    "misspelt emoji action": (
        with_channel(emoji={"urgnet": {"names": ["fire"]}}),
        "at '/channels/channels/C0SUPPORT/emoji': additional properties 'urgnet'",
    ),
    "misspelt key in defaults": (
        {"defaults": {"on_call": {"policy_id": "P1"}}, "channels": {"C0SUPPORT": SUPPORT}},
        "at '/channels/defaults/on_call': additional properties 'policy_id'",
    ),
    "unknown who": (
        with_channel(emoji={"resolve": {"names": ["done"], "who": "everyone"}}),
        "at '/channels/channels/C0SUPPORT/emoji/resolve/who'",
    ),
    "on call with both sources": (
        with_channel(on_call={"escalation_policy_id": "P1", "schedule_id": "S1"}),
        "at '/channels/channels/C0SUPPORT/on_call'",
    ),
    "reminders without a period": (
        with_channel(reminders={"max_reminders": 2}),
        "at '/channels/channels/C0SUPPORT/reminders': missing property 'after_minutes'",
    ),
    "time that is no time": (
        {"defaults": {"business_hours": {"start": "9am"}}, "channels": {"C0SUPPORT": SUPPORT}},
        "at '/channels/defaults/business_hours/start'",
    ),
    "unknown placeholder": (
        with_channel(welcome_message="Hello {name}"),
        "at '/channels/channels/C0SUPPORT/welcome_message'",
    ),
    "priority": (with_channel(zendesk={"priority": "critical"}), "at '/channels/channels/C0SUPPORT/zendesk/priority'"),
    "nothing opens a ticket": (
        with_channel(auto_open=False),
        "channels.channels.C0SUPPORT: auto_open is false but no emoji.open (or ticket_reaction) is set",
    ),
    "hours backwards": (
        with_channel(business_hours={"start": "18:00", "end": "09:00"}),
        "channels.channels.C0SUPPORT.business_hours: start (18:00) must be before end (09:00)",
    ),
    "misspelt key in direct_messages": (
        {"direct_messages": {"enabeld": True}},
        "at '/channels/direct_messages': additional properties 'enabeld'",
    ),
    "a welcome in direct messages": (
        {"direct_messages": {"enabled": True, "welcome_message": "Hi {user}"}},
        "at '/channels/direct_messages': additional properties 'welcome_message'",
    ),
    "emoji.open in direct messages": (
        {"direct_messages": {"enabled": True, "emoji": {"open": {"names": ["ticket"]}}}},
        "at '/channels/direct_messages/emoji': additional properties 'open'",
    ),
    "direct messages' hours backwards": (
        {"direct_messages": {"enabled": True, "business_hours": {"start": "18:00", "end": "09:00"}}},
        "channels.direct_messages.business_hours: start (18:00) must be before end (09:00)",
    ),
    "email group of no channel": (
        {"channels": {"C0SUPPORT": SUPPORT}, "email_groups": {1003: "C0OTHER"}},
        "channels.email_groups.1003 points at C0OTHER, which is not under channels.channels",
    ),
}


@pytest.mark.parametrize("case", list(WRONG))
def test_a_wrong_channels_value_fails_at_helm_template_naming_it(helm: Helm, tmp_path: Path, case: str) -> None:
    channels, message = WRONG[case]
    result = render(helm, tmp_path, yaml.safe_dump({"channels": channels}), check=False)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
    # The services would refuse it too: the chart stops nothing they accept.
    with pytest.raises(ChannelConfigError):
        parse_channels(channels)


# Accepted by channels.py, so the chart must accept them too (the checks are no stricter).
RIGHT = {
    "a channel's hours replace the defaults' whole": {
        "defaults": {"business_hours": {"start": "19:00", "end": "20:00"}},
        "channels": {"C0SUPPORT": {"business_hours": {"end": "18:00"}}},
    },
    "defaults open by emoji only": {
        "defaults": {"auto_open": False, "emoji": {"open": {"names": ["ticket"], "who": "anyone"}}},
        "channels": {"C0SUPPORT": {"emoji": {"urgent": {"names": ["fire"]}}}},
    },
    "private requests by direct message": {
        "defaults": {"zendesk": {"tags": ["slack"]}, "welcome_message": "Hi {user}", "auto_open": True},
        "channels": {"C0SUPPORT": SUPPORT},
        "direct_messages": {
            "enabled": True,
            "zendesk": {"group_id": 1007, "tags": ["slack-dm", "private"], "priority": "high"},
            "business_hours": {"start": "08:00", "end": "18:00"},
            "reminders": {"after_minutes": 60},
        },
    },
    "empty channel, nulls and {}": {
        "channels": {"C0SUPPORT": None, "C0INFRA": {"out_of_hours": {}, "on_call": None, "report_channel": ""}},
    },
}


@pytest.mark.parametrize("case", list(RIGHT))
def test_a_channels_value_the_services_accept_renders(helm: Helm, tmp_path: Path, case: str) -> None:
    channels = RIGHT[case]
    expected = parse_channels(channels)
    docs = [d for d in yaml.safe_load_all(render(helm, tmp_path, yaml.safe_dump({"channels": channels})).stdout) if d]
    [configmap] = [d for d in docs if d["kind"] == "ConfigMap"]
    assert parse_channels(yaml.safe_load(configmap["data"]["channels.yaml"])) == expected


def test_direct_messages_reach_ingest_only_when_enabled(helm: Helm, tmp_path: Path) -> None:
    def ingest_env(channels: dict[str, Any]) -> dict[str, Any]:
        docs = [
            d for d in yaml.safe_load_all(render(helm, tmp_path, yaml.safe_dump({"channels": channels})).stdout) if d
        ]
        [ingest] = [d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"].endswith("-ingest")]
        return {e["name"]: e.get("value") for e in ingest["spec"]["template"]["spec"]["containers"][0]["env"]}

    assert ingest_env({"channels": {"C0SUPPORT": SUPPORT}})["THREADLINE_INGEST_DIRECT_MESSAGES"] == "false"
    enabled = {"channels": {"C0SUPPORT": SUPPORT}, "direct_messages": {"enabled": True}}
    assert ingest_env(enabled)["THREADLINE_INGEST_DIRECT_MESSAGES"] == "true"


def test_the_home_tab_can_be_switched_off(helm: Helm, tmp_path: Path) -> None:
    def router_env(values: dict[str, Any]) -> dict[str, Any]:
        docs = [d for d in yaml.safe_load_all(render(helm, tmp_path, yaml.safe_dump(values)).stdout) if d]
        [router] = [d for d in docs if d["kind"] == "StatefulSet" and d["metadata"]["name"].endswith("-router")]
        return {e["name"]: e.get("value") for e in router["spec"]["template"]["spec"]["containers"][0]["env"]}

    assert router_env({})["THREADLINE_ROUTER_APP_HOME"] == "true"
    assert router_env({"slack": {"appHome": False}})["THREADLINE_ROUTER_APP_HOME"] == "false"

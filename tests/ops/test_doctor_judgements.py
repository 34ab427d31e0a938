"""The doctor's judgements as pure functions of what it read: what counts as a problem, and how
each reads."""

from __future__ import annotations

import pytest
from zenpy.lib.api_objects import Invocation, Webhook

from threadline_common.channels import parse_channels
from threadline_common.contracts import load_topics
from threadline_reporter.indices import Names
from threadline_router.ops.doctor import (
    TicketField,
    agent_findings,
    alias_findings,
    delivery_findings,
    field_findings,
    form_findings,
    routing_findings,
    scope_findings,
    template_differences,
    template_findings,
    topic_findings,
    webhook_findings,
)
from threadline_router.ops.env import UsageError
from threadline_router.ops.slack_manifest import BOT_SCOPES
from threadline_router.ops.zendesk_webhook import NEEDED_EVENTS, endpoint_for, shortfalls

pytestmark = pytest.mark.unit


def texts(findings) -> list[str]:
    return [f"{f.label.strip()} {f.text}" for f in findings]


def healthy_cluster(prefix: str = "p.") -> tuple[dict[str, int], dict[str, str | None]]:
    specs = load_topics()
    partitions = {prefix + s.name: s.partitions for s in specs}
    policies = {prefix + s.name: s.config.get("cleanup.policy") for s in specs}
    return partitions, policies


def test_topics_as_their_contracts_say_are_one_ok_line():
    partitions, policies = healthy_cluster()
    (finding,) = topic_findings(load_topics(), partitions, policies, "p.")
    assert finding.ok and f"all {len(load_topics())} contract topics" in finding.text


def test_a_partition_count_other_than_the_contract_is_a_problem_naming_both():
    partitions, policies = healthy_cluster()
    partitions["p.threadline.router.inbound"] = 3
    (finding,) = topic_findings(load_topics(), partitions, policies, "p.")
    assert not finding.ok
    assert finding.text.startswith("topic p.threadline.router.inbound has 3 partitions, its contract says 6")


def test_a_policy_kafka_did_not_say_is_not_guessed_at():
    partitions, policies = healthy_cluster()
    policies["p.threadline.links"] = None
    assert all(f.ok for f in topic_findings(load_topics(), partitions, policies, "p."))


def test_scopes():
    assert [f.ok for f in scope_findings(",".join(BOT_SCOPES))] == [True]
    granted = ",".join([*[s for s in BOT_SCOPES if s != "commands"], "admin"])
    assert texts(scope_findings(granted))[0].startswith("PROBLEM the Slack bot token lacks the scopes commands:")
    assert texts(scope_findings(granted))[1] == "note the bot token also has scopes Threadline does not use: admin"
    assert not scope_findings(None)[0].ok


def hook(**changes) -> Webhook:
    fields = {
        "id": "01H0000000000000000000000A",
        "endpoint": "https://t.example/zendesk/webhook",
        "status": "active",
        "http_method": "POST",
        "request_format": "json",
        "subscriptions": list(NEEDED_EVENTS),
        **changes,
    }
    return Webhook(**fields)


def test_a_webhook_will_do_when_one_of_those_to_ingest_does():
    good, bad = hook(), hook(id="01H0000000000000000000000B", status="inactive")
    assert shortfalls(good) == []
    assert shortfalls(hook(http_method="PUT", subscriptions=[])) == [
        "it is not subscribed to ticket.created, ticket.comment_added, ticket.status_changed",
        "it sends PUT json, not POST json",
    ]
    assert [f.ok for f in webhook_findings("https://t.example/zendesk/webhook", [bad, good], "https://t.example")] == [
        True
    ]
    (finding,) = webhook_findings("https://t.example/zendesk/webhook", [bad], "https://t.example")
    assert not finding.ok and "it is inactive" in finding.text


def test_groups_and_brands_of_defaults_and_email_groups_are_checked():
    channels = parse_channels(
        {
            "defaults": {"zendesk": {"brand_id": 7}},
            "channels": {"C1": {"name": "support", "zendesk": {"group_id": 1}}},
            "email_groups": {2: "C1"},
        }
    )
    found = texts(routing_findings(channels, {1: "Support"}, {}, "channels.yaml"))
    assert found == [
        "PROBLEM channel C1 (#support) in channels.yaml: Zendesk has no brand 7 (brands: none)",
        "PROBLEM email_groups.2 in channels.yaml: Zendesk has no group 2 (groups: 1 Support)",
    ]


@pytest.mark.parametrize(
    ("url", "endpoint"),
    [
        ("https://t.example", "https://t.example/zendesk/webhook"),
        ("https://t.example/", "https://t.example/zendesk/webhook"),
        ("https://t.example/zendesk/webhook", "https://t.example/zendesk/webhook"),
        ("https://t.example/prefix", "https://t.example/prefix/zendesk/webhook"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/zendesk/webhook"),
    ],
)
def test_the_endpoint_is_ingest_s_route_under_its_address(url, endpoint):
    assert endpoint_for(url) == endpoint


@pytest.mark.parametrize("url", ["http://t.example", "ftp://t.example", "t.example", "", "https://"])
def test_anything_but_https_is_refused(url):
    with pytest.raises(UsageError, match="--url"):
        endpoint_for(url)


def invocation(status: str, code: int | None = 200) -> Invocation:
    return Invocation(id="1", status=status, status_code=code, latest_completed_at="2026-12-01T10:00:00Z")


def test_only_a_failing_latest_delivery_is_a_problem():
    assert delivery_findings("W", [])[0].ok
    assert texts(delivery_findings("W", [invocation("success")] * 3)) == [
        "ok Zendesk: the last 3 deliveries to ingest succeeded"
    ]
    recovered = delivery_findings("W", [invocation("success"), invocation("timeout", None)])
    assert texts(recovered) == ["ok Zendesk: the latest delivery to ingest succeeded (1 of the last 2 failed)"]
    (failing,) = delivery_findings("W", [invocation("server error", 503), invocation("success")])
    assert not failing.ok and "(server error 503 at 2026-12-01T10:00:00Z; 1 of the last 2 failed)" in failing.text


FIELDS = {
    7: TicketField("Region", "tagger", values=("emea", "amer")),
    8: TicketField("Order number", "text"),
    9: TicketField("Old", "text", active=False),
    10: TicketField("Seats", "integer"),
}


def test_ticket_fields_named_by_the_channel_file():
    channels = parse_channels(
        {
            "channels": {
                "C1": {
                    "name": "help",
                    "zendesk": {
                        "custom_fields": {7: "emea", 8: "anything"},
                        "form": [
                            {"id": 7, "label": "Region", "kind": "select", "options": ["emea", "amer"]},
                            {"id": 10, "label": "Seats", "kind": "number"},
                        ],
                    },
                }
            }
        }
    )
    assert texts(field_findings(channels, FIELDS, "f.yaml")) == [
        "ok Zendesk: every ticket field f.yaml names exists, is active and has its options"
    ]

    channels = parse_channels(
        {
            "channels": {
                "C1": {
                    "zendesk": {
                        "custom_fields": {9: "x", 7: "apac"},
                        "form": [
                            {"id": 8, "label": "Kind", "kind": "select", "options": ["a"]},
                            {"id": 7, "label": "Count", "kind": "number"},
                            {"id": 404, "label": "Gone"},
                        ],
                    }
                }
            }
        }
    )
    fix = "Admin Center > Objects and rules > Tickets > Fields"
    assert texts(field_findings(channels, FIELDS, "f.yaml")) == [
        "PROBLEM channel C1 zendesk.custom_fields in f.yaml: ticket field 7 'Region' has no option 'apac' "
        f"(its values: emea, amer): use a value, or add the option in {fix}",
        f"PROBLEM channel C1 zendesk.custom_fields in f.yaml: ticket field 9 'Old' is inactive: activate it in {fix}",
        "PROBLEM channel C1 zendesk.form 'Kind' in f.yaml: ticket field 8 'Order number' is a text field, "
        "not a drop-down: make the form field kind text",
        "PROBLEM channel C1 zendesk.form 'Count' in f.yaml: ticket field 7 'Region' is a tagger field, "
        "not a number: make the form field kind select",
        "PROBLEM channel C1 zendesk.form 'Gone' in f.yaml: Zendesk has no ticket field 404: "
        f"correct the id, or create it in {fix}",
    ]


def test_an_end_user_is_no_agent():
    assert agent_findings("a@x.example", "agent") == agent_findings("a@x.example", "admin") == []
    (finding,) = agent_findings("a@x.example", "end-user")
    assert not finding.ok and "a@x.example's, an end-user: Threadline needs an agent" in finding.text


def installed(body: dict) -> dict:
    """A template as GET _index_template answers it: settings nested under index, numbers as strings."""
    template = dict(body["template"])
    template["settings"] = {"index": {k: str(v) for k, v in template["settings"].items()}}
    return {**body, "template": template, "composed_of": []}


def test_templates_as_installed_are_equal_to_the_reporters():
    wanted = Names("p-").templates()
    have = {name: installed(body) for name, body in wanted.items()}
    assert texts(template_findings(wanted, have)) == [
        "ok Elasticsearch: the reporter's 3 index templates are installed as it installs them"
    ]


def test_what_differs_in_a_template_is_named():
    wanted = Names("p-").templates()["p-conversations"]
    have = installed(wanted)
    mappings = dict(have["template"]["mappings"])
    properties = dict(mappings["properties"])
    del properties["question"]
    properties["status"] = {"type": "text"}
    properties["note"] = {"type": "text"}
    mappings.update(properties=properties, dynamic="true")
    have["template"] = {**have["template"], "mappings": mappings, "aliases": {}}
    have["priority"] = 100
    assert template_differences(wanted, have) == [
        "priority 100, not 200",
        "mapping lacks fields question",
        "mapping has fields the reporter does not note",
        "mapping maps differently status",
        "mapping dynamic",
        "aliases [], not ['p-conversations']",
    ]
    (finding,) = template_findings({"p-conversations": wanted}, {"p-conversations": have})
    assert not finding.ok and finding.text.startswith("Elasticsearch template p-conversations is not the reporter's")


def test_a_missing_template_says_how_to_install_it():
    assert texts(template_findings({"p-events": {}}, {})) == [
        "PROBLEM Elasticsearch template p-events is missing: "
        "start the reporter once (it installs its templates and indices at start)"
    ]


def test_aliases_readers_use():
    found = alias_findings(["p-conversations", "p-reports"], ["p-events"], {"p-conversations": ["p-conversations-v1"]})
    assert texts(found) == [
        "ok Elasticsearch: p-conversations -> p-conversations-v1",
        "PROBLEM Elasticsearch alias p-reports points at no index: "
        "start the reporter once (it installs its templates and indices at start)",
        "note Elasticsearch alias p-events points at no index yet (its first index comes with the first event)",
    ]


def test_ticket_forms_named_by_the_channel_file():
    channels = parse_channels(
        {
            "channels": {
                "C1": {"zendesk": {"ticket_form_id": 5}},
                "C2": {"name": "b", "zendesk": {"ticket_form_id": 6}},
                "C3": {"zendesk": {"ticket_form_id": 404}},
                "C4": {},
            }
        }
    )
    forms = {5: ("Default", True), 6: ("Old", False)}
    assert texts(form_findings(channels, forms, "f.yaml")) == [
        "PROBLEM channel C2 (#b) in f.yaml: the ticket form 6 'Old' is inactive: activate it in "
        "Admin Center > Objects and rules > Tickets > Forms",
        "PROBLEM channel C3 in f.yaml: Zendesk has no ticket form 404 (forms: 5 Default, 6 Old)",
    ]

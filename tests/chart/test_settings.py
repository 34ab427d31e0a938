"""The chart and the services' settings classes agree: every THREADLINE_*/KAFKA_* variable the chart
sets is a setting of the container's service, and every setting is reachable from values (a value,
or a name the service's `env` map accepts). A renamed or added setting fails here, not in a cluster."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from chart.support import CHART, VALUE_SETS, Helm, Rendered
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from threadline_common.settings import KafkaSettings
from threadline_ingest.settings import IngestSettings
from threadline_reporter.settings import KibanaSettings, ReporterSettings
from threadline_router.settings import RouterSettings
from threadline_zendesk_sync.settings import ZendeskSyncSettings

pytestmark = pytest.mark.chart

WORKLOAD_KINDS = {"Deployment", "StatefulSet", "Job"}
# Container name -> the settings class its THREADLINE_* variables must belong to (None: only KAFKA_*).
SETTINGS_OF: dict[str, type[BaseSettings] | None] = {
    "ingest": IngestSettings,
    "router": RouterSettings,
    "zendesk-sync": ZendeskSyncSettings,
    "reporter": ReporterSettings,
    "kibana-import": KibanaSettings,
    "topics": None,
    "readiness": None,  # helm test: reads no settings, only the URLs it is given
}
# Where the chart sets each class's variables, and the values.schema.json definition of its `env` map.
TEMPLATE_OF: dict[type[BaseSettings], tuple[str, str | None]] = {
    IngestSettings: ("ingest.yaml", "ingestEnv"),
    RouterSettings: ("router.yaml", "routerEnv"),
    ZendeskSyncSettings: ("zendesk-sync.yaml", "zendeskSyncEnv"),
    ReporterSettings: ("reporter.yaml", "reporterEnv"),
    KibanaSettings: ("kibana-job.yaml", "kibanaEnv"),
    KafkaSettings: ("_helpers.tpl", None),
}
# Settings deliberately out of the operator's reach, and why.
NOT_FOR_OPERATORS = {
    "THREADLINE_ROUTER_PARTITIONS": "the partitions of the contract topics (schemas/topics), made by the topic Job",
    "THREADLINE_ROUTER_REPLICATION_FACTOR": "for topics Faust would declare; the router declares none",
    "THREADLINE_ZENDESK_SYNC_PARTITIONS": "the partitions of the contract topics (schemas/topics), made by the topic Job",
}
ENV_NAME = re.compile(r"\b(?:THREADLINE|KAFKA)_[A-Z0-9_]+\b")


def names_by_field(cls: type[BaseSettings]) -> dict[str, set[str]]:
    """The variables each field of a settings class reads: env_prefix + its name, or its own aliases."""
    prefix = str(cls.model_config.get("env_prefix", ""))
    out = {}
    for name, field in cls.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            out[name] = {str(choice).upper() for choice in alias.choices}
        elif isinstance(alias, str):
            out[name] = {alias.upper()}
        else:
            out[name] = {f"{prefix}{name}".upper()}
    return out


def env_names(cls: type[BaseSettings]) -> set[str]:
    return set().union(*names_by_field(cls).values())


def dead_names(r: Rendered) -> list[str]:
    """Every THREADLINE_*/KAFKA_* variable of a rendered workload that no setting reads."""
    problems = []
    kafka = env_names(KafkaSettings)
    for workload in (d for d in r.docs if d["kind"] in WORKLOAD_KINDS):
        for container in workload["spec"]["template"]["spec"]["containers"]:
            where = f"{r.name}: {workload['metadata']['name']}/{container['name']}"
            assert container["name"] in SETTINGS_OF, f"{where}: which settings class does this container read?"
            cls = SETTINGS_OF[container["name"]]
            known = kafka | (env_names(cls) if cls else set())
            for entry in container.get("env", []):
                name = entry["name"]
                if ENV_NAME.fullmatch(name) and name.upper() not in known:
                    owner = cls.__name__ if cls else "KafkaSettings"
                    problems.append(f"{where}: {name} is not a setting of {owner}")
    return problems


@pytest.mark.parametrize("value_set", list(VALUE_SETS))
def test_every_variable_the_chart_sets_is_a_setting_of_its_service(
    rendered: dict[str, Rendered], value_set: str
) -> None:
    r = rendered[value_set]
    assert not dead_names(r), "\n".join(dead_names(r))
    if value_set == "everything":
        checked = {
            c["name"]
            for d in r.docs
            if d["kind"] in WORKLOAD_KINDS
            for c in d["spec"]["template"]["spec"]["containers"]
        }
        assert checked == set(SETTINGS_OF), "the everything-on values should run every container"


def test_a_misspelt_variable_is_caught(helm: Helm, tmp_path: Path) -> None:
    # extraEnv is the free-form list the schema cannot check: the settings check still does.
    text = helm.template(
        "--values",
        str(VALUE_SETS["everything"]),
        "--set",
        "router.extraEnv[0].name=THREADLINE_ROUTER_REMINDERS_INTERVAL_SECONDS",
        "--set-string",
        "router.extraEnv[0].value=30",
    ).stdout
    r = Rendered("misspelt", tmp_path / "x.yaml", [d for d in yaml.safe_load_all(text) if d])
    assert dead_names(r) == [
        "misspelt: threadline-router/router: THREADLINE_ROUTER_REMINDERS_INTERVAL_SECONDS is not a setting of RouterSettings"
    ]


def schema() -> dict:
    return dict(json.loads((CHART / "values.schema.json").read_text()))


@pytest.mark.parametrize("cls", list(TEMPLATE_OF), ids=lambda c: c.__name__)
def test_every_setting_is_reachable_from_values(cls: type[BaseSettings]) -> None:
    template, env_definition = TEMPLATE_OF[cls]
    set_by_chart = set(ENV_NAME.findall((CHART / "templates" / template).read_text()))
    env_map = set(schema()["definitions"][env_definition]["properties"]) if env_definition else set()
    settings = env_names(cls)
    reachable = set_by_chart | env_map | set(NOT_FOR_OPERATORS)
    unreachable = sorted(min(names) for names in names_by_field(cls).values() if not names & reachable)
    assert not unreachable, (
        f"{cls.__name__}: {unreachable} cannot be set from values: add a value in templates/{template} "
        f"or the name to values.schema.json definitions.{env_definition}"
    )
    # The env map offers only real settings, and none the chart already sets from a value.
    assert env_map <= settings, f"dead names in definitions.{env_definition}: {sorted(env_map - settings)}"
    assert not env_map & set_by_chart, f"set by a value already: {sorted(env_map & set_by_chart)}"
    assert not (set_by_chart & settings) & set(NOT_FOR_OPERATORS)


def test_a_misspelt_env_map_name_fails_at_install_with_its_name(helm: Helm) -> None:
    result = helm.template("--set", "zendeskSync.env.THREADLINE_ZENDESK_SYNC_BUDGET_PER_MINUTE=100", check=False)
    assert result.returncode != 0
    assert "at '/zendeskSync/env': additional properties 'THREADLINE_ZENDESK_SYNC_BUDGET_PER_MINUTE' not allowed" in (
        result.stderr
    ), result.stderr


def env_of(workload: dict) -> dict[str, dict]:
    return {e["name"]: e for e in workload["spec"]["template"]["spec"]["containers"][0].get("env", [])}


def test_pagerduty_token_comes_from_the_secret_and_is_required_once_a_channel_has_on_call(
    rendered: dict[str, Rendered], helm: Helm
) -> None:
    on_call = env_of(rendered["everything"].named("Deployment", "-zendesk-sync"))
    ref = on_call["THREADLINE_ZENDESK_SYNC_PAGERDUTY_API_TOKEN"]["valueFrom"]["secretKeyRef"]
    assert ref == {"name": "threadline", "key": "pagerduty-api-token", "optional": False}
    assert on_call["THREADLINE_ZENDESK_SYNC_PAGERDUTY_API_URL"]["value"] == "https://api.eu.pagerduty.com"
    # No channel names an on call: the key may be absent and PagerDuty's own API is used.
    plain = env_of(rendered["default"].named("Deployment", "-zendesk-sync"))
    assert plain["THREADLINE_ZENDESK_SYNC_PAGERDUTY_API_TOKEN"]["valueFrom"]["secretKeyRef"]["optional"] is True
    assert "THREADLINE_ZENDESK_SYNC_PAGERDUTY_API_URL" not in plain
    assert ZendeskSyncSettings.model_fields["pagerduty_api_url"].default == "https://api.pagerduty.com"
    result = helm.template(
        "--values",
        str(VALUE_SETS["everything"]),
        "--set",
        "secrets.values.pagerdutyApiToken=",
        check=False,
    )
    assert result.returncode != 0
    assert "secrets.create: set secrets.values.pagerdutyApiToken (a channel sets on_call)" in result.stderr


def test_values_reach_the_services_as_the_settings_they_name(
    rendered: dict[str, Rendered], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A few values end to end: the rendered variables, as the router reads its environment."""
    r = rendered["everything"]
    router = env_of(r.named("StatefulSet", "-router"))
    for name, entry in router.items():
        if "value" in entry:
            monkeypatch.setenv(name, entry["value"])
    settings = RouterSettings()
    assert settings.app_id == "acme-threadline-router"
    assert settings.reminder_interval_seconds == 30
    assert settings.disable_message_processing is False
    assert settings.allowed_bot_ids == ["B0PAGER"]
    assert settings.app_home is True  # slack.appHome's default
    reporter = env_of(r.named("Deployment", "-reporter"))
    values = {k: v["value"] for k, v in reporter.items() if k.startswith("THREADLINE_REPORTER_") and "value" in v}
    assert values["THREADLINE_REPORTER_TEXT_MODE"] == "redact"
    assert values["THREADLINE_REPORTER_DAILY_AT"] == "08:30" and values["THREADLINE_REPORTER_WEEKLY_ON"] == "fri"
    assert values["THREADLINE_REPORTER_RETENTION_MONTHS"] == "13"
    assert values["THREADLINE_REPORTER_ELASTICSEARCH_CA_CERTS"] == "/etc/threadline/elasticsearch-tls/ca.crt"
    kibana = env_of(r.named("Job", "-kibana-import"))
    assert kibana["THREADLINE_REPORTER_KIBANA_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == "kibana-password"
    assert kibana["THREADLINE_REPORTER_KIBANA_CA_CERTS"]["value"] == "/etc/threadline/kibana-tls/ca.crt"
    mounts = {
        m["mountPath"]
        for m in r.named("Job", "-kibana-import")["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    }
    assert {"/etc/threadline/kibana-tls", "/etc/threadline/elasticsearch-tls"} <= mounts
    # Kibana listens on 5601, not among the default egress ports: its Job may still reach it.
    policy = r.named("NetworkPolicy", "-kibana-import")["spec"]["egress"]
    assert {"port": 5601, "protocol": "TCP"} in [p for rule in policy for p in rule.get("ports", [])]

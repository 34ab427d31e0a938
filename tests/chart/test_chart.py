"""The Helm chart, checked without a cluster: lint, render, Kubernetes schemas, CRD schemas,
security scan, values schema, and what a reviewer expects of every workload."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from chart.support import CHART, VALUE_SETS, Helm, Rendered

from threadline_devstack.tools import ChartTools

pytestmark = pytest.mark.chart

HERE = Path(__file__).resolve().parent
CUSTOM_KINDS = {"ScaledObject", "TriggerAuthentication", "ServiceMonitor", "PrometheusRule"}
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "Job"}
SELECTOR = {"app.kubernetes.io/name": "threadline", "app.kubernetes.io/instance": "threadline"}
# The oldest Kubernetes the chart declares (Chart.yaml kubeVersion) must accept it too.
OLDEST_KUBERNETES = "1.27.0"


def pod_specs(r: Rendered) -> list[tuple[str, dict]]:
    return [(d["metadata"]["name"], d["spec"]["template"]["spec"]) for d in r.docs if d["kind"] in WORKLOAD_KINDS]


def env_of(workload: dict) -> dict[str, dict]:
    container = workload["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e for e in container.get("env", [])}


# --- helm lint and Kubernetes schemas ------------------------------------------------------------


@pytest.mark.parametrize("value_set", list(VALUE_SETS))
def test_helm_lint_strict(helm: Helm, value_set: str) -> None:
    values = VALUE_SETS[value_set]
    result = helm.run(
        "lint",
        "--strict",
        str(CHART),
        "--kube-version",
        helm.kube_version,
        *(["--values", str(values)] if values else []),
    )
    assert "0 chart(s) failed" in result.stdout


def kubernetes_validate(tools: ChartTools, version: str, *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tools.kubernetes_validate, "--kubernetes-version", version, "--strict", "--quiet", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("version", [OLDEST_KUBERNETES, "current"])
def test_every_value_set_renders_manifests_valid_for_kubernetes(
    chart_tools: ChartTools, rendered: dict[str, Rendered], tmp_path: Path, version: str
) -> None:
    version = chart_tools.kubernetes_version if version == "current" else version
    # Custom resources are checked against their CRDs below; the Kubernetes schemas have none.
    files = []
    for r in rendered.values():
        core = [d for d in r.docs if d["kind"] not in CUSTOM_KINDS]
        path = tmp_path / f"{r.name}.yaml"
        path.write_text(yaml.safe_dump_all(core))
        files.append(path)
    result = kubernetes_validate(chart_tools, version, *files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ERROR" not in result.stdout


@pytest.mark.parametrize("breakage", ["wrong type", "unknown field"])
def test_schema_validation_catches_a_broken_manifest(
    chart_tools: ChartTools, rendered: dict[str, Rendered], tmp_path: Path, breakage: str
) -> None:
    deployment = copy.deepcopy(rendered["default"].named("Deployment", "-ingest"))
    if breakage == "wrong type":
        deployment["spec"]["replicas"] = "two"
        expected = "spec.replicas: 'two' is not of type 'integer'"
    else:
        deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGett"] = {}
        expected = "httpGett"
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(deployment))
    result = kubernetes_validate(chart_tools, chart_tools.kubernetes_version, path)
    assert result.returncode != 0
    assert expected in result.stdout, result.stdout


def validate_custom(tools: ChartTools, objects: list[dict]) -> list[dict]:
    result = subprocess.run(
        [tools.node, str(HERE / "validate_crds.mjs"), tools.node_modules],
        input=json.dumps(objects),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout))


def test_custom_resources_match_their_crd_schemas(chart_tools: ChartTools, rendered: dict[str, Rendered]) -> None:
    objects = [d for r in rendered.values() for d in r.docs if d["kind"] in CUSTOM_KINDS]
    kinds = {d["kind"] for d in objects}
    assert kinds == CUSTOM_KINDS, f"a value set should render every custom kind, got {kinds}"
    problems = [r for r in validate_custom(chart_tools, objects) if r["error"]]
    assert not problems, problems


def test_crd_validation_catches_a_broken_custom_resource(
    chart_tools: ChartTools, rendered: dict[str, Rendered]
) -> None:
    scaled = copy.deepcopy(rendered["everything"].named("ScaledObject", "-router"))
    scaled["spec"]["maxReplicaCount"] = "six"
    monitor = copy.deepcopy(rendered["everything"].named("ServiceMonitor", "-ingest"))
    monitor["spec"]["endpoints"][0]["interval"] = "every minute"
    errors = [r["error"] for r in validate_custom(chart_tools, [scaled, monitor])]
    assert errors[0] and "maxReplicaCount" in errors[0]
    assert errors[1] and "interval" in errors[1]


# --- security scan -------------------------------------------------------------------------------

# Every failed checkov check must be listed here, with the value sets it may fail on and why.
ACCEPTED_FINDINGS: dict[str, tuple[set[str], str]] = {
    "CKV_K8S_35": (
        set(VALUE_SETS),
        "secrets as env vars: the services read their settings from the environment (pydantic-settings); "
        "the values come from secretKeyRef, never from the manifest",
    ),
    "CKV_K8S_43": (
        set(VALUE_SETS) - {"everything"},
        "image digests: the chart takes one per image (everything-values pins them, skaffold's prod profile "
        "sets the built digests); a plain tag is the operator's choice",
    ),
    "CKV_K8S_15": ({"dev"}, "pull policy IfNotPresent: the dev profile runs images built into the local cluster"),
}


def test_security_scan_passes_every_check_but_the_accepted_ones(
    chart_tools: ChartTools, rendered: dict[str, Rendered], tmp_path: Path
) -> None:
    for r in rendered.values():
        (tmp_path / r.path.name).write_text(r.path.read_text())
    result = subprocess.run(
        [
            chart_tools.checkov,
            "--directory",
            str(tmp_path),
            "--framework",
            "kubernetes",
            "--skip-download",
            "--output",
            "json",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={"BC_SKIP_MAPPING": "TRUE", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    report = json.loads(result.stdout)
    report = report if isinstance(report, list) else [report]
    assert report and report[0]["summary"]["passed"] > 500, report[0]["summary"] if report else result.stderr
    unexpected = []
    for section in report:
        assert section["summary"]["parsing_errors"] == 0
        for failed in section["results"]["failed_checks"]:
            value_set = Path(failed["file_path"]).stem
            allowed, _why = ACCEPTED_FINDINGS.get(failed["check_id"], (set(), ""))
            if value_set not in allowed:
                unexpected.append(f"{value_set}: {failed['check_id']} {failed['check_name']} ({failed['resource']})")
    assert not unexpected, "\n".join(unexpected)


# --- values.schema.json and the template's own checks ----------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "kafka.securityProtocol=TLS"], "'/kafka/securityProtocol': value must be one of"),
        (["--set", "kafka.bootstrapServers=kafka"], "'/kafka/bootstrapServers': 'kafka' does not match pattern"),
        (["--set", "ingest.replicas=two"], "'/ingest/replicas': got string, want integer"),
        (["--set", "router.replicas=12"], "'/router/replicas': maximum: got 12, want 6"),
        (["--set", "ingest.imag.tag=1"], "additional properties 'imag' not allowed"),
        (["--set", "logLevel=verbose"], "'/logLevel': value must be one of 'DEBUG', 'INFO', 'WARNING', 'ERROR'"),
        (["--set", "securityContext.runAsNonRoot=false"], "'/securityContext/runAsNonRoot': value must be true"),
        (["--set", "elasticsearch.url=elasticsearch:9200"], "'/elasticsearch/url'"),
        (["--set", "zendesk.subdomain=Acme.zendesk.com"], "'/zendesk/subdomain'"),
        (
            ["--set", "channels.channels.support.name=x"],
            "'/channels/channels': additional properties 'support' not allowed",
        ),
        (["--set", "kafka.securityProtocol=SASL_SSL"], "'/kafka/sasl/username': minLength: got 0, want 1"),
        (["--set", "ingest.image.digest=latest"], "'/ingest/image/digest'"),
    ],
)
def test_wrong_values_fail_with_a_message_naming_them(helm: Helm, args: list[str], message: str) -> None:
    result = helm.template(*args, check=False)
    assert result.returncode != 0
    assert "values don't meet the specifications of the schema" in result.stderr
    assert message in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [
                "--set",
                "kafka.tls.existingSecret=ca",
                "--set",
                "kafka.securityProtocol=SASL_PLAINTEXT",
                "--set",
                "kafka.sasl.mechanism=PLAIN",
                "--set",
                "kafka.sasl.username=u",
            ],
            "kafka.tls.existingSecret is set but kafka.securityProtocol is SASL_PLAINTEXT",
        ),
        (["--set", "secrets.create=true", "--set", "secrets.existingSecret=mine"], "set either secrets.existingSecret"),
        (["--set", "secrets.create=true"], "secrets.create: set secrets.values.slackSigningSecret"),
        (
            [
                "--set",
                "secrets.create=true",
                "--set",
                "slack.socketMode=true",
                "--set",
                "secrets.values.slackAppToken=xoxb-1",
            ],
            "secrets.values.slackAppToken must be an app-level token (xapp-...)",
        ),
        (["--set", "zendesk.email=nobody"], 'zendesk.email "nobody" is not an email address'),
        (["--set", "kibana.importJob.enabled=true"], "kibana.importJob.enabled: set kibana.importJob.url"),
    ],
)
def test_inconsistent_values_fail_with_a_message(helm: Helm, args: list[str], message: str) -> None:
    result = helm.template(*args, check=False)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr


# --- what every workload must be ----------------------------------------------------------------


def test_every_pod_is_non_root_read_only_without_capabilities(rendered: dict[str, Rendered]) -> None:
    for r in rendered.values():
        for name, spec in pod_specs(r):
            assert spec["automountServiceAccountToken"] is False, name
            assert spec["securityContext"]["runAsNonRoot"] is True, name
            assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
            for c in spec["containers"]:
                sc = c["securityContext"]
                assert sc["readOnlyRootFilesystem"] is True, name
                assert sc["allowPrivilegeEscalation"] is False, name
                assert sc["capabilities"]["drop"] == ["ALL"], name
                assert sc["runAsUser"] >= 10000, name
                assert c["resources"]["limits"]["memory"], name
                # A read-only root needs a writable /tmp.
                assert any(m["mountPath"] == "/tmp" for m in c["volumeMounts"]), name


def test_every_service_is_probed_on_its_real_health_paths(rendered: dict[str, Rendered]) -> None:
    expected = {
        "-ingest": ("http", 8080),
        "-router": ("web", 6066),
        "-zendesk-sync": ("web", 6067),
        "-reporter": ("http", 8080),
    }
    r = rendered["default"]
    for suffix, (port_name, port) in expected.items():
        kind = "StatefulSet" if suffix == "-router" else "Deployment"
        container = r.named(kind, suffix)["spec"]["template"]["spec"]["containers"][0]
        assert container["ports"] == [{"name": port_name, "containerPort": port, "protocol": "TCP"}]
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port_name}
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port_name}
        # The service binds the port the probes ask.
        env = env_of(r.named(kind, suffix))
        port_env = next(v["value"] for k, v in env.items() if k.endswith("_PORT") and not k.startswith("KAFKA"))
        assert port_env == str(port)


def test_selectors_use_only_stable_kubernetes_labels(rendered: dict[str, Rendered]) -> None:
    for r in rendered.values():
        for d in r.docs:
            spec = d.get("spec") or {}
            selectors = [spec.get("selector", {}).get("matchLabels"), spec.get("podSelector", {}).get("matchLabels")]
            if d["kind"] == "Service":
                selectors.append(spec.get("selector"))
            for selector in filter(None, selectors):
                assert all(k.startswith("app.kubernetes.io/") for k in selector), (r.name, d["metadata"]["name"])
                assert "app.kubernetes.io/version" not in selector


def test_secrets_are_never_in_configmaps_or_literal_env(rendered: dict[str, Rendered]) -> None:
    values = yaml.safe_load((CHART / "ci" / "everything-values.yaml").read_text())
    secrets = [v for v in values["secrets"]["values"].values() if v]
    r = rendered["everything"]
    text_outside_secrets = yaml.safe_dump_all([d for d in r.docs if d["kind"] != "Secret"])
    for secret in secrets:
        assert secret not in text_outside_secrets
    for workload in (d for d in r.docs if d["kind"] in WORKLOAD_KINDS):
        for name, entry in env_of(workload).items():
            if any(word in name for word in ("SECRET", "TOKEN", "PASSWORD", "API_KEY", "SALT")):
                assert "valueFrom" in entry and "value" not in entry, (workload["metadata"]["name"], name)


def test_by_default_the_chart_only_refers_to_a_secret(rendered: dict[str, Rendered]) -> None:
    assert rendered["default"].kind("Secret") == []
    assert rendered["external-kafka"].kind("Secret") == []
    ingest_env = env_of(rendered["external-kafka"].named("Deployment", "-ingest"))
    ref = ingest_env["KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]
    assert ref == {"name": "threadline-credentials", "key": "kafka-sasl-password", "optional": False}


def test_external_tls_kafka_reaches_every_client_the_same_way(rendered: dict[str, Rendered]) -> None:
    r = rendered["everything"]
    not_clients = ("kibana-import", "test-readiness")  # they speak HTTP only
    clients = [d for d in r.docs if d["kind"] in WORKLOAD_KINDS and not d["metadata"]["name"].endswith(not_clients)]
    assert len(clients) == 5  # four services and the topic Job
    for workload in clients:
        env = env_of(workload)
        assert env["KAFKA_SECURITY_PROTOCOL"]["value"] == "SASL_SSL"
        assert env["KAFKA_SASL_MECHANISM"]["value"] == "SCRAM-SHA-512"
        assert env["KAFKA_SSL_CA_LOCATION"]["value"] == "/etc/threadline/kafka-tls/ca.crt"
        assert env["KAFKA_SSL_KEY_LOCATION"]["value"] == "/etc/threadline/kafka-tls/tls.key"
        volumes = {v["name"]: v for v in workload["spec"]["template"]["spec"]["volumes"]}
        assert volumes["kafka-tls"]["secret"]["secretName"] == "kafka-cluster-ca"
    # KEDA authenticates with the same secret and CA.
    auth = r.named("TriggerAuthentication", "-router")["spec"]
    assert {ref["parameter"] for ref in auth["secretTargetRef"]} == {"password", "ca", "cert", "key"}
    trigger = r.named("ScaledObject", "-router")["spec"]["triggers"][0]["metadata"]
    assert trigger["sasl"] == "scram_sha512" and trigger["tls"] == "enable"
    # KEDA watches the consumer group the router really joins (its Faust app id).
    router_env = env_of(r.named("StatefulSet", "-router"))
    assert trigger["consumerGroup"] == router_env["THREADLINE_ROUTER_APP_ID"]["value"] == "acme-threadline-router"


def test_router_keeps_its_rocksdb_store_on_a_volume(rendered: dict[str, Rendered]) -> None:
    router = rendered["default"].named("StatefulSet", "-router")
    env = env_of(router)
    assert env["THREADLINE_ROUTER_STORE"]["value"] == "rocksdb://"
    assert env["THREADLINE_ROUTER_DATA_DIR"]["value"] == "/var/lib/threadline/router"
    claim = router["spec"]["volumeClaimTemplates"][0]
    assert claim["metadata"]["name"] == "data" and claim["spec"]["resources"]["requests"]["storage"] == "2Gi"
    mounts = router["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    assert {"name": "data", "mountPath": "/var/lib/threadline/router"} in mounts
    # Without persistence the store is rebuilt from the changelog into an emptyDir.
    minimal = rendered["minimal"].named("StatefulSet", "-router")
    assert "volumeClaimTemplates" not in minimal["spec"]
    assert {"name": "data", "emptyDir": {}} in minimal["spec"]["template"]["spec"]["volumes"]


def test_topics_are_created_by_a_hook_job_before_install_and_upgrade(rendered: dict[str, Rendered]) -> None:
    job = rendered["everything"].named("Job", "-topics")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["python", "-m", "threadline_common.topics"]
    assert "--replication-factor=3" in container["args"] and "--config=min.insync.replicas=2" in container["args"]
    # The release's Secret does not exist before install: the hook has its own, made first.
    hook_secret = rendered["everything"].named("Secret", "-topics")
    assert int(hook_secret["metadata"]["annotations"]["helm.sh/hook-weight"]) < 0
    assert env_of(job)["KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == hook_secret["metadata"]["name"]
    assert [j["metadata"]["name"] for j in rendered["minimal"].kind("Job")] == ["threadline-test-readiness"]


def test_channel_routing_is_a_configmap_that_ingest_follows(rendered: dict[str, Rendered]) -> None:
    r = rendered["everything"]
    configmap = r.named("ConfigMap", "-channels")
    channels = yaml.safe_load(configmap["data"]["channels.yaml"])
    assert set(channels["channels"]) == {"C0SUPPORT", "C0INFRA"}
    from threadline_common.channels import parse_channels

    assert parse_channels(channels).rules_for("C0INFRA").zendesk.priority == "high"  # type: ignore[union-attr]
    assert (
        env_of(r.named("Deployment", "-ingest"))["THREADLINE_INGEST_MONITORED_CHANNELS"]["value"] == "C0INFRA,C0SUPPORT"
    )
    router_env = env_of(r.named("StatefulSet", "-router"))
    assert router_env["THREADLINE_ROUTER_CHANNELS_FILE"]["value"] == "/etc/threadline/channels/channels.yaml"


def test_optional_parts_are_off_by_default_and_on_by_values(rendered: dict[str, Rendered]) -> None:
    optional = [
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Ingress",
        "ScaledObject",
        "ServiceMonitor",
        "PrometheusRule",
    ]
    for kind in optional:
        assert rendered["default"].kind(kind) == [], kind
        assert rendered["everything"].kind(kind), kind
    everything = rendered["everything"]
    assert len(everything.kind("PodDisruptionBudget")) == 4
    # Every service serves /metrics on the port its Service names.
    assert {d["metadata"]["name"].rsplit("-", 1)[-1] for d in everything.kind("ServiceMonitor")} == {
        "ingest",
        "router",
        "sync",
        "reporter",
    }
    router_monitor = everything.named("ServiceMonitor", "-router")["spec"]
    assert router_monitor["endpoints"][0]["port"] == "web" and router_monitor["endpoints"][0]["path"] == "/metrics"
    router_service = everything.named("Service", "-router")
    assert router_service["spec"]["ports"][0]["name"] == "web"
    assert router_monitor["selector"]["matchLabels"].items() <= router_service["metadata"]["labels"].items()
    hpa = everything.named("HorizontalPodAutoscaler", "-ingest")
    assert hpa["spec"]["scaleTargetRef"]["name"].endswith("-ingest")
    assert "replicas" not in everything.named("Deployment", "-ingest")["spec"]  # the HPA owns it
    ingress = everything.named("Ingress", "-ingest")
    paths = [p["path"] for p in ingress["spec"]["rules"][0]["http"]["paths"]]
    # slack.oauth is on in these values: the install flow's two pages are public too.
    assert paths == [
        "/slack/events",
        "/slack/interactions",
        "/slack/commands",
        "/zendesk/webhook",
        "/slack/install",
        "/slack/oauth_redirect",
    ]
    # Every service that calls Slack reads the installations then: the key reaches each of them.
    for workload in ("-ingest", "-zendesk-sync", "-reporter"):
        names = [n for n in env_of(everything.named("Deployment", workload)) if n.endswith("_SLACK_INSTALLATIONS_KEY")]
        assert len(names) == 1, workload
        assert env_of(everything.named("Deployment", workload))[names[0]]["valueFrom"]["secretKeyRef"]["key"] == (
            "slack-installations-key"
        )
    assert not any(
        n.endswith("_SLACK_INSTALLATIONS_KEY") for n in env_of(rendered["default"].named("Deployment", "-reporter"))
    )


def test_the_alert_rules_watch_metrics_the_services_export(rendered: dict[str, Rendered]) -> None:
    from threadline_router.metrics import Metrics as RouterMetrics
    from threadline_zendesk_sync.app import Metrics as SyncMetrics

    exported = {
        m.name + "_total"
        for registry in (RouterMetrics().registry, SyncMetrics().registry)
        for m in registry.collect()
        if m.type == "counter"
    }
    [rule] = rendered["everything"].kind("PrometheusRule")
    alerts = {r["alert"]: r["expr"] for g in rule["spec"]["groups"] for r in g["rules"]}
    assert {"ThreadlineEffectLoop", "ThreadlineCommandsFailing"} <= alerts.keys()
    for alert, expr in alerts.items():
        used = set(re.findall(r"threadline_[a-z_]+_total", expr))
        assert used and used <= exported, (alert, used - exported)


def test_network_policies_cover_every_pod_when_enabled(rendered: dict[str, Rendered]) -> None:
    for name in ("default", "everything", "prod"):
        r = rendered[name]
        covered = [p["spec"]["podSelector"]["matchLabels"] for p in r.kind("NetworkPolicy")]
        for workload in (d for d in r.docs if d["kind"] in WORKLOAD_KINDS):
            labels = workload["spec"]["template"]["metadata"]["labels"]
            assert any(sel.items() <= labels.items() for sel in covered), (name, workload["metadata"]["name"])
    assert rendered["minimal"].kind("NetworkPolicy") == []


def test_the_reporter_api_takes_its_token_from_the_secret_and_only_named_peers_reach_it(
    rendered: dict[str, Rendered],
) -> None:
    for name in ("default", "everything", "prod"):
        env = env_of(rendered[name].named("Deployment", "-reporter"))
        ref = env["THREADLINE_REPORTER_API_TOKEN"]["valueFrom"]["secretKeyRef"]
        assert ref["key"] == "reporter-api-token" and ref["optional"] is False, name
        assert env["THREADLINE_REPORTER_WEB_HOST"]["value"] == "0.0.0.0"  # explicit: its default is loopback
        assert env["THREADLINE_REPORTER_API_ENABLED"]["value"] == "true"
    default = rendered["default"].named("NetworkPolicy", "-reporter")["spec"]["ingress"]
    # Only the metrics scrapers (any namespace by default), zendesk-sync (`/support report`) and
    # `helm test`'s readiness Job.
    helm_test = {"podSelector": {"matchLabels": {**SELECTOR, "app.kubernetes.io/component": "test-readiness"}}}
    sync = {"podSelector": {"matchLabels": {**SELECTOR, "app.kubernetes.io/component": "zendesk-sync"}}}
    assert [rule["from"] for rule in default] == [[{"namespaceSelector": {}}], [sync], [helm_test]]
    everything = rendered["everything"].named("NetworkPolicy", "-reporter")["spec"]["ingress"]
    peers = [peer for rule in everything for peer in rule["from"]]
    assert peers == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}},
        sync,
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "weekly-digest"}}},
        helm_test,
    ]
    # zendesk-sync reaches the API in-cluster, with the same token, and may leave for its port.
    for name in ("default", "everything", "prod"):
        env = env_of(rendered[name].named("Deployment", "-zendesk-sync"))
        assert env["THREADLINE_ZENDESK_SYNC_REPORTER_API_URL"]["value"].endswith("-reporter:8080"), name
        ref = env["THREADLINE_ZENDESK_SYNC_REPORTER_API_TOKEN"]["valueFrom"]["secretKeyRef"]
        assert ref["key"] == "reporter-api-token", name
    egress = rendered["default"].named("NetworkPolicy", "-zendesk-sync")["spec"]["egress"]
    assert 8080 in [p["port"] for rule in egress for p in rule.get("ports", [])]
    # The chart-made Secret carries the token (evaluation only).
    made = [d for d in rendered["everything"].kind("Secret") if "slack-bot-token" in d.get("stringData", {})]
    assert len(made) == 1 and "reporter-api-token" in made[0]["stringData"]


def test_a_chart_made_secret_without_a_reporter_token_fails(helm: Helm) -> None:
    result = helm.template(
        "--values", str(VALUE_SETS["everything"]), "--set", "secrets.values.reporterApiToken=short", check=False
    )
    assert result.returncode != 0
    assert "secrets.values.reporterApiToken, 24 characters or more" in result.stderr
    disabled = helm.template(
        "--values",
        str(VALUE_SETS["everything"]),
        "--set",
        "secrets.values.reporterApiToken=",
        "--set",
        "reporter.api.enabled=false",
    ).stdout
    assert "THREADLINE_REPORTER_API_TOKEN" not in disabled


def render_notes(helm: Helm, tmp_path: Path, *args: str) -> str:
    """NOTES.txt as `helm install` prints it: helm template skips NOTES, so a copy of the chart
    carries it in a ConfigMap (every template file can be included by its name)."""
    chart = tmp_path / "threadline"
    shutil.copytree(CHART, chart)
    (chart / "templates" / "notes-preview.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: |\n"
        '{{- include "threadline/templates/NOTES.txt" . | nindent 4 }}\n'
    )
    result = helm.run(
        "template",
        "threadline",
        str(chart),
        "--namespace",
        "threadline",
        "--kube-version",
        helm.kube_version,
        "--show-only",
        "templates/notes-preview.yaml",
        *args,
    )
    return str(yaml.safe_load(result.stdout)["data"]["notes"])


def test_notes_tell_the_slack_and_zendesk_urls(helm: Helm, tmp_path: Path) -> None:
    notes = render_notes(
        helm,
        tmp_path,
        "--values",
        str(VALUE_SETS["prod"]),
        "--set",
        "ingest.ingress.host=support.acme.example",
        "--set",
        "zendesk.subdomain=acme",
        "--set",
        "channels.channels.C0SUPPORT.name=support",
    )
    for path in ("/slack/events", "/slack/interactions", "/slack/commands", "/zendesk/webhook"):
        assert f"https://support.acme.example{path}" in notes
    assert "create secret generic threadline-credentials" in notes
    assert "Channels served now: C0SUPPORT" in notes
    assert "WARNING" not in notes


def test_notes_warn_about_what_keeps_a_service_from_starting(helm: Helm, tmp_path: Path) -> None:
    notes = render_notes(helm, tmp_path, "--set", "slack.socketMode=true")
    assert "WARNING: zendesk.subdomain is empty" in notes
    assert "Socket Mode is on: no request URL is needed" in notes
    assert "/slack/events" not in notes
    assert "kubectl -n threadline port-forward svc/threadline-ingest" in notes

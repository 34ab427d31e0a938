"""`make cluster-test`: the chart installed, upgraded, rolled back and tested on a real API server.

    python -m threadline_devstack.cluster            # build what is missing (cached), then the story

The story, each step checked against the API server's own state, never a sleep:
1. the Prometheus Operator's and KEDA's CRDs (from their Go modules), one kwok node, a static
   PersistentVolume per router replica (there is no provisioner), the namespace and its Secret;
2. `helm install --wait` with the prod values: the topics hook Job completes first, every
   Deployment and the router StatefulSet reach their replicas, each claim is Bound;
3. `helm upgrade --wait` with changed values: the change is in the objects, the rollout done;
4. `helm rollback --wait` to revision 1: the objects are as installed;
5. `helm test`: the chart's readiness Job completes (on fake pods it proves the hook runs and
   the Job's shape is accepted, not that the services answer: see cluster/local.py).
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from threadline_devstack.cluster import binaries as cluster_binaries
from threadline_devstack.cluster.local import Cluster, running
from threadline_devstack.tools import ensure_helm

ROOT = Path(__file__).resolve().parents[4]
CHART = ROOT / "charts" / "threadline"
NAMESPACE = "threadline"
RELEASE = "threadline"
SECRET_KEYS = (
    "slack-signing-secret", "slack-bot-token", "zendesk-api-token", "zendesk-webhook-secret",
    "reporter-api-token", "kafka-sasl-password", "elasticsearch-api-key", "pagerduty-api-token",
)  # fmt: skip


CRDS = ("servicemonitors.monitoring.coreos.com", "prometheusrules.monitoring.coreos.com", "scaledobjects.keda.sh")


class StoryFailed(AssertionError):
    pass


def _say(message: str) -> None:
    print(f"[cluster-test] {message}", file=sys.stderr, flush=True)


def _helm(helm: Path, cluster: Cluster, *args: str, timeout: float = 600) -> str:
    argv = [str(helm), "--kubeconfig", str(cluster.kubeconfig), "--namespace", NAMESPACE, *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)  # noqa: S603
    if done.returncode != 0:
        raise StoryFailed(f"helm {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def _until(what: str, check: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise StoryFailed(f"timed out waiting for {what}")
        time.sleep(0.5)


def _prepare(cluster: Cluster, router_replicas: int, router_volume: str) -> None:
    for crd_file in cluster_binaries.ensure_crds():
        cluster.apply(yaml.safe_load(crd_file.read_text()))
    for crd in (
        "servicemonitors.monitoring.coreos.com",
        "prometheusrules.monitoring.coreos.com",
        "scaledobjects.keda.sh",
    ):
        _until(f"CRD {crd} established", functools.partial(_established, cluster, crd))
    cluster.apply(
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": "kwok-node-0", "annotations": {"kwok.x-k8s.io/node": "fake"},
                         "labels": {"type": "kwok", "kubernetes.io/hostname": "kwok-node-0"}},
            "spec": {"taints": []},
            "status": {"allocatable": {"cpu": "32", "memory": "256Gi", "pods": "110"},
                       "capacity": {"cpu": "32", "memory": "256Gi", "pods": "110"}},
        }
    )  # fmt: skip
    for index in range(router_replicas):
        cluster.apply(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {"name": f"threadline-router-{index}"},
                "spec": {"capacity": {"storage": router_volume}, "accessModes": ["ReadWriteOnce"],
                         "persistentVolumeReclaimPolicy": "Retain",
                         "hostPath": {"path": f"/var/lib/threadline-router-{index}"}},
            }
        )  # fmt: skip
    cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    cluster.apply(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "threadline-credentials", "namespace": NAMESPACE},
            "stringData": {key: f"cluster-test-{key}-0123456789abcdef" for key in SECRET_KEYS},
        }
    )


def _established(cluster: Cluster, name: str) -> bool:
    crd = cluster.get(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
    return any(
        c["type"] == "Established" and c["status"] == "True" for c in (crd.get("status") or {}).get("conditions") or []
    )


def _workloads(cluster: Cluster) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for kind in ("deployments", "statefulsets"):
        for item in cluster.get(f"/apis/apps/v1/namespaces/{NAMESPACE}/{kind}")["items"]:
            found[item["metadata"]["name"]] = item
    return found


def _rolled_out(cluster: Cluster) -> bool:
    for item in _workloads(cluster).values():
        spec, status = item["spec"], item.get("status", {})
        if status.get("observedGeneration", 0) < item["metadata"]["generation"]:
            return False
        if status.get("readyReplicas", 0) != spec.get("replicas", 1) or status.get("updatedReplicas", 0) != spec.get(
            "replicas", 1
        ):
            return False
    return True


def _env(item: dict[str, Any], container: str, name: str) -> str | None:
    for c in item["spec"]["template"]["spec"]["containers"]:
        if c["name"] == container:
            for e in c.get("env", []):
                if e["name"] == name:
                    return str(e.get("value"))
    return None


def _check_installed(cluster: Cluster, expected: dict[str, int]) -> None:
    workloads = _workloads(cluster)
    for name, replicas in expected.items():
        item = workloads.get(name)
        if item is None:
            raise StoryFailed(f"{name} is missing after install: have {sorted(workloads)}")
        ready = item.get("status", {}).get("readyReplicas", 0)
        if ready != replicas:
            raise StoryFailed(f"{name}: {ready} ready replicas, expected {replicas}")
    claims = cluster.get(f"/api/v1/namespaces/{NAMESPACE}/persistentvolumeclaims")["items"]
    unbound = [c["metadata"]["name"] for c in claims if c.get("status", {}).get("phase") != "Bound"]
    if not claims or unbound:
        raise StoryFailed(f"router claims not bound: {unbound or 'none made'}")


def run_story() -> dict[str, Any]:
    figures: dict[str, Any] = {}
    started = time.monotonic()
    built = cluster_binaries.ensure()
    helm = ensure_helm()
    figures["binaries_ready_s"] = round(time.monotonic() - started, 1)
    prod = yaml.safe_load((CHART / "values-prod.yaml").read_text())
    router_volume = prod["router"]["persistence"]["size"]
    router_replicas = int(prod["router"].get("replicas") or 1)
    values = ["-f", str(CHART / "values-prod.yaml"), "--set", "image.tag=cluster-test"]
    with running(built) as cluster:
        figures["cluster_up_s"] = round(time.monotonic() - started - figures["binaries_ready_s"], 1)
        version = cluster.get("/version")["gitVersion"]
        _say(f"API server {version} at {cluster.server}")
        _prepare(cluster, router_replicas, router_volume)

        t = time.monotonic()
        _helm(helm, cluster, "install", RELEASE, str(CHART), *values, "--wait", "--timeout", "5m")
        figures["install_s"] = round(time.monotonic() - t, 1)
        workloads = _workloads(cluster)
        expected = {name: int(item["spec"].get("replicas", 1)) for name, item in workloads.items()}
        _check_installed(cluster, expected)
        _say(f"installed: {expected}")

        sync = next(name for name in workloads if name.endswith("zendesk-sync"))
        t = time.monotonic()
        _helm(
            helm,
            cluster,
            "upgrade",
            RELEASE,
            str(CHART),
            *values,
            "--set",
            "logLevel=DEBUG",
            "--wait",
            "--timeout",
            "5m",
        )
        _until("the upgrade's rollout", lambda: _rolled_out(cluster))
        upgraded = _workloads(cluster)[sync]
        if _env(upgraded, "zendesk-sync", "THREADLINE_ZENDESK_SYNC_LOG_LEVEL") != "DEBUG":
            raise StoryFailed("helm upgrade --set logLevel=DEBUG did not reach zendesk-sync's environment")
        figures["upgrade_s"] = round(time.monotonic() - t, 1)

        t = time.monotonic()
        _helm(helm, cluster, "rollback", RELEASE, "1", "--wait", "--timeout", "5m")
        _until("the rollback's rollout", lambda: _rolled_out(cluster))
        if _env(_workloads(cluster)[sync], "zendesk-sync", "THREADLINE_ZENDESK_SYNC_LOG_LEVEL") == "DEBUG":
            raise StoryFailed("helm rollback 1 left the upgraded log level in place")
        history = json.loads(_helm(helm, cluster, "history", RELEASE, "-o", "json"))
        figures["revisions"] = [(h["revision"], h["status"]) for h in history]
        figures["rollback_s"] = round(time.monotonic() - t, 1)

        t = time.monotonic()
        _helm(helm, cluster, "test", RELEASE, "--timeout", "3m")
        figures["helm_test_s"] = round(time.monotonic() - t, 1)
        figures["workloads"] = expected
    figures["total_s"] = round(time.monotonic() - started, 1)
    return figures


def main() -> int:
    try:
        figures = run_story()
    except StoryFailed as failed:
        print(f"cluster-test failed: {failed}", file=sys.stderr)
        return 1
    print(json.dumps(figures, indent=2))
    return 0

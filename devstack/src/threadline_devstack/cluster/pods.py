"""The chart's Deployments as real pods: `podman kube play` of what `helm template` renders.

kwok's pods are fake (cluster/local.py); these run the images. What podman 4.3's kube play
cannot take as the chart writes it is translated, and nothing else is changed:

- `secretKeyRef` to a Secret of the same release fails unless inlined: the values are inlined
  (optional keys the Secret lacks are dropped, as Kubernetes would leave them unset);
- a StatefulSet is not played: the router's becomes a Deployment, its claim an emptyDir (the
  table is rebuilt from its changelog, as on a new volume);
- every containerPort would be published on 0.0.0.0: the pods use the host's network instead
  (the session's Kafka, Elasticsearch and sandboxes listen on 127.0.0.1), probes get the port
  numbers their names stood for, and the ports are dropped;
- Kubernetes-only fields kube play refuses or cannot honour (service account, service links)
  are removed.
"""

from __future__ import annotations

import base64
import copy
import subprocess
from pathlib import Path
from typing import Any

import yaml

from threadline_devstack.images import podman_env

WORKLOADS = ("Deployment", "StatefulSet")
STATEFUL_ONLY = ("serviceName", "podManagementPolicy", "persistentVolumeClaimRetentionPolicy", "updateStrategy")
NOT_FOR_PODMAN = ("serviceAccountName", "automountServiceAccountToken", "enableServiceLinks")


def _secrets(docs: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for doc in docs:
        if doc["kind"] == "Secret":
            values = dict(doc.get("stringData") or {})
            values.update({k: base64.b64decode(v).decode() for k, v in (doc.get("data") or {}).items()})
            found[doc["metadata"]["name"]] = values
    return found


def _inline_env(container: dict[str, Any], secrets: dict[str, dict[str, str]]) -> None:
    env = []
    for var in container.get("env", []):
        ref = var.get("valueFrom", {}).get("secretKeyRef")
        if ref is None:
            env.append(var)
            continue
        value = secrets.get(ref["name"], {}).get(ref["key"])
        if value is None:
            if ref.get("optional"):
                continue
            raise ValueError(
                f"{container['name']}: {var['name']} needs {ref['name']}/{ref['key']}, which is not rendered"
            )
        env.append({"name": var["name"], "value": value})
    container["env"] = env


def _numbered_probes(container: dict[str, Any]) -> None:
    ports = {p["name"]: p["containerPort"] for p in container.get("ports", []) if "name" in p}
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        http = container.get(probe, {}).get("httpGet")
        if http and isinstance(http.get("port"), str):
            http["port"] = ports[http["port"]]
    container.pop("ports", None)


def playable(rendered: str) -> tuple[str, str]:
    """helm template's output -> (the workloads for kube play, the ConfigMaps for --configmap)."""
    docs = [d for d in yaml.safe_load_all(rendered) if d]
    secrets = _secrets(docs)
    workloads = []
    for doc in docs:
        if doc["kind"] not in WORKLOADS or "helm.sh/hook" in doc["metadata"].get("annotations", {}):
            continue
        doc = copy.deepcopy(doc)
        spec = doc["spec"]
        if doc["kind"] == "StatefulSet":
            claims = [c["metadata"]["name"] for c in spec.pop("volumeClaimTemplates", [])]
            for field in (
                "serviceName",
                "podManagementPolicy",
                "persistentVolumeClaimRetentionPolicy",
                "updateStrategy",
            ):
                spec.pop(field, None)
            doc["kind"] = "Deployment"
            spec["template"]["spec"].setdefault("volumes", []).extend({"name": c, "emptyDir": {}} for c in claims)
        spec["replicas"] = 1
        pod = spec["template"]["spec"]
        for field in NOT_FOR_PODMAN:
            pod.pop(field, None)
        pod["hostNetwork"] = True
        for container in pod.get("initContainers", []) + pod["containers"]:
            _inline_env(container, secrets)
            _numbered_probes(container)
        workloads.append(doc)
    configmaps = [d for d in docs if d["kind"] == "ConfigMap"]
    return yaml.safe_dump_all(workloads, sort_keys=False), yaml.safe_dump_all(configmaps, sort_keys=False)


def play(rendered: str, workdir: Path) -> Path:
    """Start the pods; returns the file to pass to `down`."""
    workloads, configmaps = playable(rendered)
    pods, cms = workdir / "pods.yaml", workdir / "configmaps.yaml"
    pods.write_text(workloads)
    cms.write_text(configmaps)
    done = subprocess.run(  # noqa: S603
        ["podman", "kube", "play", "--replace", "--configmap", str(cms), str(pods)],  # noqa: S607
        env=podman_env(), capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"podman kube play failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return pods


def down(pods: Path) -> None:
    subprocess.run(  # noqa: S603
        ["podman", "kube", "down", str(pods)],  # noqa: S607
        env=podman_env(), capture_output=True, timeout=300, check=False,
    )  # fmt: skip


def logs(pod_prefix: str, lines: int = 40) -> str:
    """The last log lines of the pods whose names start with `pod_prefix` (for failure messages)."""
    listed = subprocess.run(
        ["podman", "ps", "-a", "--format", "{{.Names}}"],  # noqa: S607
        env=podman_env(), capture_output=True, text=True, check=False,
    )  # fmt: skip
    out = []
    for name in listed.stdout.split():
        if name.startswith(pod_prefix):
            got = subprocess.run(  # noqa: S603
                ["podman", "logs", "--tail", str(lines), name],  # noqa: S607
                env=podman_env(), capture_output=True, text=True, check=False,
            )  # fmt: skip
            out.append(f"== {name}\n{got.stdout}{got.stderr}")
    return "\n".join(out)

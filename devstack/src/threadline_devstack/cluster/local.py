"""A local Kubernetes API server with fake nodes: etcd, kube-apiserver, kube-controller-manager,
kube-scheduler and a kwok node, run as processes by kwokctl's binary runtime.

What it can prove: the chart's objects are accepted by a real API server (admission, schema,
CRDs), hooks run in order and Jobs complete, Deployments and the StatefulSet reach their
replicas with their volume claims bound, upgrades and rollbacks apply. What it cannot: kwok's
pods are fake (marked Running and Ready without a container), so no probe, no image and no
process of ours runs there; `podman kube play` covers real containers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import yaml

from threadline_devstack.cluster.binaries import ClusterBinaries

CLUSTER_NAME = "threadline"


@dataclass(frozen=True)
class Cluster:
    """The running cluster, as helm and the checks reach it."""

    kubeconfig: Path
    server: str
    session: requests.Session

    def get(self, path: str) -> dict[str, Any]:
        answer = self.session.get(self.server + path, timeout=30)
        answer.raise_for_status()
        body: dict[str, Any] = answer.json()
        return body

    def apply(self, manifest: dict[str, Any]) -> None:
        """Create or replace one object (server-side apply, as kubectl apply --server-side)."""
        kind, meta = manifest["kind"], manifest["metadata"]
        path = _object_path(manifest["apiVersion"], kind, meta.get("namespace"), meta["name"])
        answer = self.session.patch(
            self.server + path,
            params={"fieldManager": "threadline-cluster-test", "force": "true"},
            data=json.dumps(manifest),
            headers={"Content-Type": "application/apply-patch+yaml"},
            timeout=30,
        )
        if answer.status_code >= 300:
            raise RuntimeError(f"applying {kind} {meta['name']}: {answer.status_code} {answer.text[:500]}")


# Plural resource names of the kinds this project applies by hand.
_PLURALS = {
    "Namespace": "namespaces",
    "Secret": "secrets",
    "PersistentVolume": "persistentvolumes",
    "CustomResourceDefinition": "customresourcedefinitions",
    "Node": "nodes",
    "ConfigMap": "configmaps",
}


def _object_path(api_version: str, kind: str, namespace: str | None, name: str) -> str:
    base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    ns = f"/namespaces/{namespace}" if namespace else ""
    return f"{base}{ns}/{_PLURALS[kind]}/{name}"


def _session(kubeconfig: Path) -> tuple[str, requests.Session]:
    config = yaml.safe_load(kubeconfig.read_text())
    cluster = config["clusters"][0]["cluster"]
    user = config["users"][0]["user"]
    session = requests.Session()
    # The cluster's own CA, not REQUESTS_CA_BUNDLE or a proxy from the environment (requests lets
    # the environment's bundle win over a session's `verify`).
    session.trust_env = False
    base = kubeconfig.parent
    session.verify = str(base / cluster["certificate-authority"]) if "certificate-authority" in cluster else False
    if "client-certificate" in user:
        session.cert = (str(base / user["client-certificate"]), str(base / user["client-key"]))
    if "token" in user:
        session.headers["Authorization"] = f"Bearer {user['token']}"
    return cluster["server"], session


@contextmanager
def running(binaries: ClusterBinaries, workdir: Path | None = None) -> Iterator[Cluster]:
    """Create the cluster, yield it, delete it (its processes and files) whatever happens."""
    home = workdir or Path(tempfile.mkdtemp(prefix="threadline-cluster-"))
    env = {**os.environ, "KWOK_WORKDIR": str(home)}
    kubeconfig = home / "kubeconfig.yaml"
    kwokctl = str(binaries.kwokctl)
    create = [
        kwokctl, "create", "cluster", "--name", CLUSTER_NAME, "--runtime", "binary",
        "--kubeconfig", str(kubeconfig), "--wait", "2m",
        "--kube-apiserver-binary", str(binaries.kube_apiserver),
        "--kube-controller-manager-binary", str(binaries.kube_controller_manager),
        "--kube-scheduler-binary", str(binaries.kube_scheduler),
        "--kwok-controller-binary", str(binaries.kwok),
        "--etcd-binary", str(binaries.etcd),
    ]  # fmt: skip
    try:
        made = subprocess.run(create, env=env, capture_output=True, text=True, timeout=300, check=False)  # noqa: S603
        if made.returncode != 0:
            raise RuntimeError(f"kwokctl create cluster failed:\n{made.stdout[-3000:]}\n{made.stderr[-3000:]}")
        server, session = _session(kubeconfig)
        yield Cluster(kubeconfig=kubeconfig, server=server, session=session)
    finally:
        subprocess.run(  # noqa: S603
            [kwokctl, "delete", "cluster", "--name", CLUSTER_NAME, "--kubeconfig", str(kubeconfig)],
            env=env, capture_output=True, timeout=120, check=False,
        )  # fmt: skip
        if workdir is None:
            shutil.rmtree(home, ignore_errors=True)

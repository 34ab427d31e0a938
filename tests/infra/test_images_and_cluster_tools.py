"""The pure parts of `make images` and `make cluster-test`: what they derive from the repository
and from Kubernetes' own go.mod (the runs themselves are `make image-test` and `make cluster-test`)."""

from __future__ import annotations

import pytest
import yaml

from threadline_devstack import images
from threadline_devstack.cluster import binaries
from threadline_devstack.containers import IMAGES

pytestmark = pytest.mark.unit


def test_every_service_image_is_built_with_the_arguments_skaffold_gives_it():
    args = images.build_args()
    assert set(args) == set(images.SERVICES) == set(IMAGES.values())
    skaffold = yaml.safe_load((images.ROOT / "skaffold.yaml").read_text())
    for artifact in skaffold["build"]["artifacts"]:
        service = artifact["docker"]["buildArgs"]["SERVICE"]
        assert artifact["image"] == f"threadline-{service}"
        assert args[service]["PORT"].isdigit()


def test_the_healthcheck_is_read_where_docker_or_podman_keeps_it():
    command = ["CMD", "python", "-c", "..."]
    assert images.healthcheck({"Config": {"Healthcheck": {"Test": command}}}) == command  # Docker
    assert images.healthcheck({"Config": {}, "Healthcheck": {"Test": command}}) == command  # podman
    assert images.healthcheck({"Config": {}}) is None


def test_the_wrapper_module_replaces_each_staging_module_with_its_published_twin():
    kubernetes_mod = """module k8s.io/kubernetes

replace (
\tk8s.io/api => ./staging/src/k8s.io/api
\tk8s.io/apimachinery => ./staging/src/k8s.io/apimachinery
\tk8s.io/cri-client => ./staging/src/k8s.io/cri-client
)
"""
    assert binaries._staging_replacements(kubernetes_mod, "v1.37.2") == [
        "\tk8s.io/api => k8s.io/api v0.37.2",
        "\tk8s.io/apimachinery => k8s.io/apimachinery v0.37.2",
        "\tk8s.io/cri-client => k8s.io/cri-client v0.37.2",
    ]


def test_a_go_mod_without_staging_modules_is_refused_with_a_reason():
    with pytest.raises(binaries.ToolError, match="staging"):
        binaries._staging_replacements("module k8s.io/kubernetes\n", "v1.37.2")

"""The Dockerfile (hadolint, and what the chart relies on) and skaffold.yaml against the chart."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import tomllib
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
import yaml
from chart.support import CHART, ROOT, Helm

from threadline_devstack.tools import ChartTools

pytestmark = pytest.mark.chart

SERVICES = {
    "ingest": ("threadline-ingest", "threadline_ingest", 8080),
    "router": ("threadline-router", "threadline_router", 6066),
    "zendesk-sync": ("threadline-zendesk-sync", "threadline_zendesk_sync", 6067),
    "reporter": ("threadline-reporter", "threadline_reporter", 8080),
}
VALUES_KEY = {"ingest": "ingest", "router": "router", "zendesk-sync": "zendeskSync", "reporter": "reporter"}
# Each service's own port setting, which the image sets to PORT.
PORT_VARIABLE = {
    "ingest": "THREADLINE_INGEST_PORT",
    "router": "THREADLINE_ROUTER_WEB_PORT",
    "zendesk-sync": "THREADLINE_ZENDESK_SYNC_WEB_PORT",
    "reporter": "THREADLINE_REPORTER_WEB_PORT",
}
# One Dockerfile for the four images: the service and its port are build arguments.
DOCKERFILE = ROOT / "Dockerfile"
# skaffold's published JSON Schemas, one per apiVersion (see its README).
SKAFFOLD_SCHEMAS = ROOT / "tests" / "fixtures" / "skaffold"


def hadolint(tools: ChartTools, path: Path) -> subprocess.CompletedProcess[str]:
    # Every rule, warnings and style included, fails the check.
    return subprocess.run(
        [tools.hadolint, "--no-color", "--failure-threshold", "style", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_dockerfile_passes_hadolint(chart_tools: ChartTools) -> None:
    result = hadolint(chart_tools, DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_dockerfile_of_its_own_per_service() -> None:
    assert sorted(p.relative_to(ROOT) for p in ROOT.glob("services/*/Dockerfile")) == []


def test_hadolint_reports_a_bad_dockerfile(chart_tools: ChartTools, tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install requests\nCMD python app.py\n")
    result = hadolint(chart_tools, bad)
    assert result.returncode != 0
    for rule in ("DL3007", "DL3013", "DL3025"):  # latest tag, unpinned pip, shell-form CMD
        assert rule in result.stdout


def build_args(service: str) -> dict[str, str]:
    package = SERVICES[service][0]
    artifact = next(a for a in skaffold()["build"]["artifacts"] if a["image"] == package)
    return artifact["docker"].get("buildArgs", {})


def test_dockerfile_builds_on_pinned_base_images() -> None:
    text = DOCKERFILE.read_text()
    defaults = dict(re.findall(r"^ARG (\w+)=(\S+)$", text, re.MULTILINE))
    stages = re.findall(r"^FROM (\S+)", text, re.MULTILINE)
    # multi-stage: a build stage and a slim runtime, both from the Python image argument
    assert stages.count("${PYTHON_IMAGE}") == 2, stages
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", defaults["PYTHON_IMAGE"]), defaults
    uv_version = re.search(r"^UV_VERSION\s*\?=\s*(\S+)", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert uv_version and defaults["UV_IMAGE"] == f"ghcr.io/astral-sh/uv:{uv_version.group(1)}"
    assert set(stages) == {"${PYTHON_IMAGE}", "${UV_IMAGE}"}, stages


@pytest.mark.parametrize("service", list(SERVICES))
def test_dockerfile_builds_what_the_chart_runs(service: str) -> None:
    package, module, port = SERVICES[service]
    text = DOCKERFILE.read_text()
    args = build_args(service)
    assert args == {"SERVICE": service, "PORT": str(port)}
    assert package == f"threadline-{args['SERVICE']}"
    assert 'uv sync --frozen --no-dev --no-editable --package "threadline-${SERVICE}"' in text  # from uv.lock, exactly
    assert "COPY services/${SERVICE} services/${SERVICE}" in text and (ROOT / "services" / service).is_dir()
    assert "USER 10001:10001" in text  # the chart's runAsUser
    assert "EXPOSE ${PORT}" in text and "THREADLINE_WEB_PORT=${PORT}" in text
    assert f"{PORT_VARIABLE[service]}=${{PORT}}" in text  # the service listens where the image says
    assert "'http://127.0.0.1:%s/healthz' % os.environ['THREADLINE_WEB_PORT']" in text and "HEALTHCHECK" in text
    # The same entry point as a local run: the package's command is its module's __main__.
    assert 'ln -s "threadline-${SERVICE}" /app/.venv/bin/threadline-service' in text
    assert 'ENTRYPOINT ["threadline-service"]' in text
    project = tomllib.loads((ROOT / "services" / service / "pyproject.toml").read_text())["project"]
    assert project["name"] == package
    assert project["scripts"][package] == f"{module}.__main__:main"
    src = ROOT / "services" / service / "src" / module
    assert (src / "__main__.py").exists(), f"{module} has no __main__"
    # Every workspace member's pyproject.toml is copied, or `uv sync` cannot read the workspace.
    workspace = yaml.safe_load(
        "members: " + re.search(r"members = (\[.*?\])", (ROOT / "pyproject.toml").read_text()).group(1)  # type: ignore[union-attr]
    )["members"]
    members = sorted(str(p.parent.relative_to(ROOT)) for m in workspace for p in ROOT.glob(f"{m}/pyproject.toml"))
    for member in members:
        assert f"COPY {member}/pyproject.toml {member}/" in text, member


def test_dockerignore_sends_what_the_images_copy() -> None:
    rules = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")]
    assert rules[0] == "**"
    for needed in ("uv.lock", "libs/common/", "services/", "schemas/topics/", "schemas/json/"):
        assert f"!{needed}" in rules, needed


def skaffold() -> dict:
    return yaml.safe_load((ROOT / "skaffold.yaml").read_text())


def test_skaffold_builds_each_image_the_chart_deploys() -> None:
    config = skaffold()
    assert config["apiVersion"].startswith("skaffold/v4") and config["kind"] == "Config"
    artifacts = {a["image"]: a for a in config["build"]["artifacts"]}
    assert set(artifacts) == {package for package, _, _ in SERVICES.values()}
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    release = config["deploy"]["helm"]["releases"][0]
    assert (ROOT / release["chartPath"]).resolve() == CHART
    templates = release["setValueTemplates"]
    for service, (package, _, _) in SERVICES.items():
        artifact = artifacts[package]
        assert artifact["context"] == "."  # the uv workspace root
        assert (ROOT / artifact["docker"]["dockerfile"]).resolve() == DOCKERFILE
        key = VALUES_KEY[service]
        assert values[key]["image"]["repository"] == package
        sanitized = package.replace("-", "_")
        assert templates[f"{key}.image.repository"] == f"{{{{.IMAGE_REPO_{sanitized}}}}}"
        assert templates[f"{key}.image.tag"] == f"{{{{.IMAGE_TAG_{sanitized}}}}}"


def apply_patches(config: dict, patches: list[dict]) -> dict:
    """The JSON Patch subset skaffold profiles use here: add and replace."""
    for patch in patches:
        assert patch["op"] in ("add", "replace"), patch
        *parents, last = patch["path"].strip("/").split("/")
        node = config
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if patch["op"] == "replace":
            assert last in node, f"{patch['path']} does not exist"
        node[last] = patch["value"]
    return config


@pytest.mark.parametrize("profile", ["dev", "prod"])
def test_skaffold_profile_deploys_a_valid_release(helm: Helm, profile: str) -> None:
    config = skaffold()
    profiles = {p["name"]: p for p in config["profiles"]}
    config = apply_patches(config, profiles[profile]["patches"])
    release = config["deploy"]["helm"]["releases"][0]
    # What skaffold would fill in after a build.
    filled = {
        key: re.sub(r"\{\{default \"([^\"]*)\" \.\w+\}\}", r"\1", value)
        .replace("{{.IMAGE_REPO_", "registry.test/")
        .replace("{{.IMAGE_TAG_", "abc1234-")
        .replace("{{.IMAGE_DIGEST_", "sha256:" + "0" * 58 + "-")
        .replace("}}", "")
        for key, value in release["setValueTemplates"].items()
    }
    filled = {k: ("sha256:" + "0" * 64 if v.startswith("sha256:") else v) for k, v in filled.items()}
    args = [f"--values={ROOT / f}" for f in release.get("valuesFiles", [])]
    args += [f"--set={k}={v}" for k, v in filled.items()]
    docs = [d for d in yaml.safe_load_all(helm.template(*args).stdout) if d]
    images = {
        c["image"]
        for d in docs
        if d["kind"] in ("Deployment", "StatefulSet")
        for c in d["spec"]["template"]["spec"]["containers"]
    }
    assert len(images) == 4 and all(i.startswith("registry.test/threadline_") for i in images), images
    if profile == "dev":
        assert all(d["spec"].get("replicas") == 1 for d in docs if d["kind"] in ("Deployment", "StatefulSet"))
        assert config["build"]["local"]["push"] is False
    else:
        assert all("@sha256:" in i for i in images)
        assert config["build"]["local"]["push"] is True


def skaffold_documents() -> list[dict]:
    return [d for d in yaml.safe_load_all((ROOT / "skaffold.yaml").read_text()) if d is not None]


def skaffold_schema(api_version: str) -> Path:
    return SKAFFOLD_SCHEMAS / f"{api_version.removeprefix('skaffold/')}.json"


def skaffold_validator(api_version: str) -> jsonschema.Draft7Validator:
    schema = json.loads(skaffold_schema(api_version).read_text())
    # skaffold publishes draft-07 (anyOf over $ref definitions); other drafts read it differently.
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#", schema["$schema"]
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def innermost(error: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    """The errors under an anyOf that say what is wrong: those of the alternative that got deepest."""
    if not error.context:
        return [error]
    alternatives = defaultdict(list)
    for sub in error.context:
        alternatives[sub.relative_schema_path[0]].extend(innermost(sub))
    return max(alternatives.values(), key=lambda errs: (min(len(e.absolute_path) for e in errs), -len(errs)))


def schema_errors(config: dict) -> list[str]:
    validator = skaffold_validator(config["apiVersion"])
    return sorted(
        f"{leaf.json_path}: {leaf.message}" for error in validator.iter_errors(config) for leaf in innermost(error)
    )


def test_skaffold_schema_is_there_for_its_api_version() -> None:
    for config in skaffold_documents():
        version = config.get("apiVersion", "")
        assert version.startswith("skaffold/"), version
        schema = skaffold_schema(version)
        assert schema.is_file(), (
            f"skaffold.yaml uses apiVersion {version} but {schema.relative_to(ROOT)} is missing: add skaffold's "
            f"schema for it (GoogleContainerTools/skaffold, docs-v2/content/en/schemas/{schema.name}) unmodified, "
            f"and its commit to {(SKAFFOLD_SCHEMAS / 'README.md').relative_to(ROOT)}"
        )
        assert f"| {schema.name} |" in (SKAFFOLD_SCHEMAS / "README.md").read_text(), "the README names its source"


def test_skaffold_yaml_matches_skaffolds_schema() -> None:
    documents = skaffold_documents()
    assert documents
    for index, config in enumerate(documents):
        errors = schema_errors(config)
        assert not errors, f"skaffold.yaml document {index}:\n" + "\n".join(errors)


@pytest.mark.parametrize("profile", ["dev", "prod"])
def test_skaffold_profile_applied_matches_skaffolds_schema(profile: str) -> None:
    config = skaffold()
    profiles = {p["name"]: p for p in config["profiles"]}
    patched = apply_patches(copy.deepcopy(config), profiles[profile]["patches"])
    errors = schema_errors(patched)
    assert not errors, f"skaffold.yaml with profile {profile}:\n" + "\n".join(errors)


def misspelt_dockerfile(config: dict) -> None:
    docker = config["build"]["artifacts"][0]["docker"]
    docker["dockerFile"] = docker.pop("dockerfile")


def concurrency_as_text(config: dict) -> None:
    config["build"]["local"]["concurrency"] = "two"


def wait_as_text(config: dict) -> None:
    config["deploy"]["helm"]["releases"][0]["wait"] = "yes"


@pytest.mark.parametrize(
    ("mistake", "expected"),
    [
        (
            misspelt_dockerfile,
            "$.build.artifacts[0].docker: Additional properties are not allowed ('dockerFile' was unexpected)",
        ),
        (concurrency_as_text, "$.build.local.concurrency: 'two' is not of type 'integer'"),
        (wait_as_text, "$.deploy.helm.releases[0].wait: 'yes' is not of type 'boolean'"),
    ],
)
def test_skaffold_schema_reports_a_mistake_where_it_is(mistake: Callable[[dict], None], expected: str) -> None:
    config = skaffold()
    schema = skaffold_validator(config["apiVersion"]).schema
    # Without this, skaffold's schema would let an unknown key under docker through.
    assert schema["definitions"]["DockerArtifact"]["additionalProperties"] is False
    mistake(config)
    assert schema_errors(config) == [expected]

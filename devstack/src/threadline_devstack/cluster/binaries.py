"""The local Kubernetes control plane's binaries, built once from registries and cached.

Nothing on PyPI, npm or Maven ships Kubernetes server binaries, and no download site is
reachable here, so they are built from the Go module proxy:

- kube-apiserver, kube-controller-manager and kube-scheduler from `k8s.io/kubernetes`. Its
  go.mod replaces its 33 staging modules with local paths, which `go install` refuses; a small
  wrapper module requires it and replaces each staging module with its published v0.x twin.
  The first build is long (8-10 min on an idle 2-core machine, ~25 on a loaded one; 2.6 GiB
  peak) and never repeated: the binaries live in a directory named after the version.
- kwok (fake nodes that accept pods), from `sigs.k8s.io/kwok`.
- etcd from Debian's `etcd-server` package, unpacked rather than installed (installing would
  start a system service).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from threadline_devstack.tools import ToolError, _require, tools_dir

KUBERNETES_VERSION = "v1.37.2"
KWOK_VERSION = "v0.8.0"
ETCD_PACKAGE = "etcd-server"
CONTROL_PLANE = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
# The CRDs of what the prod values turn on (ServiceMonitor, PrometheusRule, KEDA's ScaledObject),
# from the operators' own Go modules: (module, version, files in it).
CRD_SOURCES = (
    ("github.com/prometheus-operator/prometheus-operator", "v0.85.0", (
        "example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml",
        "example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml",
    )),
    ("github.com/kedacore/keda/v2", "v2.21.0", ("config/crd/bases/keda.sh_scaledobjects.yaml",)),
)  # fmt: skip


@dataclass(frozen=True)
class ClusterBinaries:
    kube_apiserver: Path
    kube_controller_manager: Path
    kube_scheduler: Path
    kwok: Path
    kwokctl: Path
    etcd: Path


def _say(message: str) -> None:
    print(f"[cluster] {message}", file=sys.stderr, flush=True)


def _go_env(gobin: Path | None = None) -> dict[str, str]:
    env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod"}
    if gobin is not None:
        env["GOBIN"] = str(gobin)
    return env


def _run_with_progress(argv: list[str], cwd: Path, env: dict[str, str], what: str) -> None:
    """Run a long build, printing a line a minute so that a first run does not look hung."""
    started = time.monotonic()
    with tempfile.TemporaryFile(mode="w+") as log:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        while True:
            try:
                proc.wait(timeout=60)
                break
            except subprocess.TimeoutExpired:
                _say(f"{what}: still building ({(time.monotonic() - started) / 60:.0f} min)")
        log.seek(0)
        output = log.read()
    if proc.returncode != 0:
        raise ToolError(f"{what} failed ({' '.join(argv)}):\n{output[-4000:]}")
    _say(f"{what}: built in {time.monotonic() - started:.0f} s")


def _staging_replacements(kubernetes_mod: str, version: str) -> list[str]:
    """`k8s.io/api => ./staging/src/k8s.io/api` in kubernetes' go.mod -> `k8s.io/api => k8s.io/api v0.37.2`."""
    staging_version = "v0." + version.removeprefix("v1.")
    names = re.findall(r"^\s*(k8s\.io/[\w.-]+)\s*=>\s*\./staging/", kubernetes_mod, flags=re.MULTILINE)
    if not names:
        raise ToolError("k8s.io/kubernetes' go.mod lists no staging modules: the wrapper cannot be made")
    return [f"\t{name} => {name} {staging_version}" for name in names]


def ensure_control_plane(version: str = KUBERNETES_VERSION) -> Path:
    target = tools_dir() / f"kubernetes-{version}"
    if (target / ".complete").exists():
        return target / "bin"
    go = _require("go", "to build the Kubernetes control plane from the Go module proxy")
    _say(f"building kube-apiserver, kube-controller-manager, kube-scheduler {version} (first run only; long)")
    shutil.rmtree(target, ignore_errors=True)
    src = target / "src"
    src.mkdir(parents=True)
    fetched = subprocess.run(  # noqa: S603
        [go, "mod", "download", "-json", f"k8s.io/kubernetes@{version}"],
        capture_output=True,
        text=True,
        env=_go_env(),
        cwd=src,
        check=False,
    )
    found = re.search(r'"GoMod":\s*"([^"]+)"', fetched.stdout)
    if fetched.returncode != 0 or found is None:
        raise ToolError(
            f"fetching k8s.io/kubernetes@{version} failed:\n{fetched.stdout[-2000:]}{fetched.stderr[-2000:]}"
        )
    replaces = _staging_replacements(Path(found.group(1)).read_text(), version)
    (src / "go.mod").write_text(
        "module threadline.local/kube-control-plane\n\ngo 1.26\n\n"
        f"require k8s.io/kubernetes {version}\n\nreplace (\n" + "\n".join(replaces) + "\n)\n"
    )
    major, minor = version.removeprefix("v").split(".")[:2]
    stamp = " ".join(
        f"-X {pkg}.{name}={value}"
        for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")
        for name, value in (
            ("gitVersion", version), ("gitMajor", major), ("gitMinor", minor),
            ("gitTreeState", "clean"), ("buildDate", "2026-01-01T00:00:00Z"),
        )
    )  # fmt: skip
    # Without the version stamp the server says v0.0.0-master and helm refuses the chart's kubeVersion.
    (target / "bin").mkdir()
    _run_with_progress(
        [go, "build", "-trimpath", f"-ldflags=-s -w {stamp}", "-o", str(target / "bin")]
        + [f"k8s.io/kubernetes/cmd/{name}" for name in CONTROL_PLANE],
        src, _go_env(), f"Kubernetes {version} control plane",
    )  # fmt: skip
    (target / ".complete").touch()
    return target / "bin"


def ensure_kwok(version: str = KWOK_VERSION) -> Path:
    """kwok (the fake nodes' controller) and kwokctl (which runs the control plane's processes)."""
    target = tools_dir() / f"kwok-{version}"
    if (target / ".complete").exists():
        return target
    go = _require("go", "to build kwok from the Go module proxy")
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for command in ("kwok", "kwokctl"):
        _run_with_progress(
            [go, "install", "-trimpath", "-ldflags=-s -w", f"sigs.k8s.io/kwok/cmd/{command}@{version}"],
            target, _go_env(target), f"{command} {version}",
        )  # fmt: skip
    (target / ".complete").touch()
    return target


def ensure_etcd() -> Path:
    """etcd from Debian's package, unpacked into the cache (apt-get download needs no root)."""
    target = tools_dir() / "etcd-debian"
    if (target / ".complete").exists():
        return target / "usr" / "bin" / "etcd"
    apt_get = _require("apt-get", "to fetch Debian's etcd-server package")
    dpkg_deb = _require("dpkg-deb", "to unpack Debian's etcd-server package")
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        got = subprocess.run([apt_get, "download", ETCD_PACKAGE], cwd=tmp, capture_output=True, text=True, check=False)  # noqa: S603
        if got.returncode != 0:
            raise ToolError(
                f"apt-get download {ETCD_PACKAGE} failed (run `apt-get update` once?):\n{got.stderr[-2000:]}"
            )
        deb = next(Path(tmp).glob("*.deb"))
        subprocess.run([dpkg_deb, "-x", str(deb), str(target)], check=True)  # noqa: S603
    (target / ".complete").touch()
    return target / "usr" / "bin" / "etcd"


def _module_dir(go: str, module: str, version: str) -> Path:
    fetched = subprocess.run(  # noqa: S603
        [go, "mod", "download", "-json", f"{module}@{version}"],
        capture_output=True, text=True, env=_go_env(), check=False, cwd=tools_dir(),
    )  # fmt: skip
    found = re.search(r'"Dir":\s*"([^"]+)"', fetched.stdout)
    if fetched.returncode != 0 or found is None:
        raise ToolError(f"fetching {module}@{version} failed:\n{fetched.stdout[-2000:]}{fetched.stderr[-2000:]}")
    return Path(found.group(1))


def ensure_crds() -> list[Path]:
    target = tools_dir() / ("crds-" + "-".join(version for _, version, _ in CRD_SOURCES))
    names = [Path(f).name for _, _, files in CRD_SOURCES for f in files]
    if not (target / ".complete").exists():
        go = _require("go", "to fetch the operators' CRDs from the Go module proxy")
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for module, version, files in CRD_SOURCES:
            source = _module_dir(go, module, version)
            for f in files:
                shutil.copyfile(source / f, target / Path(f).name)
        (target / ".complete").touch()
    return [target / name for name in names]


def ensure() -> ClusterBinaries:
    bin_dir = ensure_control_plane()
    return ClusterBinaries(
        kube_apiserver=bin_dir / "kube-apiserver",
        kube_controller_manager=bin_dir / "kube-controller-manager",
        kube_scheduler=bin_dir / "kube-scheduler",
        kwok=(kwok := ensure_kwok()) / "kwok",
        kwokctl=kwok / "kwokctl",
        etcd=ensure_etcd(),
    )


if __name__ == "__main__":
    binaries = ensure()
    print(binaries)

"""`make images`: the four service images, built from the one Dockerfile with podman (or Docker).

    python -m threadline_devstack.images build [--base auto|official|local] [--tag dev]

- The engine: `docker` when a user has it, else `podman`, installed from Debian when missing
  (root only; otherwise the error says what to install). podman runs here with runc, cgroupfs and
  explicit ulimits (crun refuses hybrid cgroups; root lacks CAP_SYS_RESOURCE): our
  containers.conf says so, and every podman call is pointed at it.
- The base images come from build arguments. `official` uses python:3.11.14-slim-bookworm and
  ghcr.io/astral-sh/uv from a registry. `local` builds them without one: a Debian bookworm root
  file system by mmdebstrap (Debian's Python 3.11, carrying this host's CA bundle, which a
  TLS-intercepting proxy may need) and a uv image holding the uv binary the Makefile installed
  from PyPI. `auto` takes the official ones when they are present or can be pulled.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from threadline_devstack.tools import ToolError, tools_dir

ROOT = Path(__file__).resolve().parents[3]
SERVICES = ("ingest", "router", "zendesk-sync", "reporter")
OFFICIAL_PYTHON = "docker.io/library/python:3.11.14-slim-bookworm"
OFFICIAL_UV = "ghcr.io/astral-sh/uv:0.13.8"
OFFICIALS = (OFFICIAL_PYTHON, OFFICIAL_UV)
LOCAL_PYTHON = "localhost/threadline-base/python:3.11-bookworm"
LOCAL_UV = "localhost/threadline-base/uv:local"
PODMAN_PACKAGES = ("podman", "buildah", "runc", "mmdebstrap", "uidmap", "slirp4netns", "catatonit")
CONTAINERS_CONF = """\
# Written by threadline_devstack.images: what podman needs on these hosts.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""


def _say(message: str) -> None:
    print(f"[images] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Engine:
    program: str
    env: dict[str, str] = field(repr=False)

    @property
    def is_podman(self) -> bool:
        return Path(self.program).name == "podman"

    def run(self, *args: str, timeout: float = 1800, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(  # noqa: S603
            [self.program, *args], env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )
        if check and done.returncode != 0:
            raise ToolError(
                f"{self.program} {' '.join(args[:3])}... failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
            )
        return done

    def has_image(self, name: str) -> bool:
        return self.run("image", "inspect", name, check=False, timeout=60).returncode == 0


def podman_env() -> dict[str, str]:
    conf = tools_dir().parent / "podman" / "containers.conf"
    conf.parent.mkdir(parents=True, exist_ok=True)
    if not conf.exists() or conf.read_text() != CONTAINERS_CONF:
        conf.write_text(CONTAINERS_CONF)
    return {**os.environ, "CONTAINERS_CONF": str(conf)}


def engine() -> Engine:
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "info"], capture_output=True, check=False).returncode == 0:  # noqa: S603
        return Engine(docker, dict(os.environ))
    podman = shutil.which("podman")
    if podman is None:
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            raise ToolError("no container engine: install podman (" + " ".join(PODMAN_PACKAGES) + ") or Docker")
        _say("installing podman from Debian (first run only, ~20 s)")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-q", *PODMAN_PACKAGES], env=env, check=True, capture_output=True)  # noqa: S603, S607
        podman = shutil.which("podman")
        if podman is None:
            raise ToolError("apt-get installed podman but it is not on PATH")
    return Engine(podman, podman_env())


def _local_python(eng: Engine) -> None:
    if eng.has_image(LOCAL_PYTHON):
        return
    mmdebstrap = shutil.which("mmdebstrap")
    if mmdebstrap is None:
        raise ToolError("mmdebstrap is needed to build the local base image (apt-get install mmdebstrap)")
    _say("building the local Python base image from Debian packages (first run only, ~80 s)")
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        rootfs = Path(tmp) / "rootfs.tar"
        host_ca = Path("/etc/ssl/certs/ca-certificates.crt")
        hooks = [f"--customize-hook=upload {host_ca} /etc/ssl/certs/host-ca-bundle.crt"] if host_ca.exists() else []
        subprocess.run(  # noqa: S603
            [mmdebstrap, "--variant=minbase", "--include=python3,python-is-python3,ca-certificates,passwd",
             *hooks, "--customize-hook=rm -rf $1/var/lib/apt/lists/* $1/var/cache/apt/*",
             "bookworm", str(rootfs)],
            check=True, capture_output=True,
        )  # fmt: skip
        changes = [
            "--change",
            "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "--change",
            'CMD ["python3"]',
        ]
        if hooks:
            changes += ["--change", "ENV SSL_CERT_FILE=/etc/ssl/certs/host-ca-bundle.crt"]
        eng.run("import", *changes, str(rootfs), LOCAL_PYTHON)
    _say(f"local Python base image built in {time.monotonic() - started:.0f} s")


def _local_uv(eng: Engine) -> None:
    if eng.has_image(LOCAL_UV):
        return
    uv = tools_dir() / "bin" / "uv"
    if not uv.exists():
        raise ToolError(f"{uv} is missing: run `make venv` first (it installs uv from PyPI)")
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy2(uv, Path(tmp) / "uv")
        (Path(tmp) / "Containerfile").write_text("FROM scratch\nCOPY uv /uv\n")
        eng.run("build", "--format", "docker", "-t", LOCAL_UV, tmp)


def base_images(eng: Engine, base: str) -> tuple[str, str]:
    if base in ("auto", "official"):
        present = eng.has_image(OFFICIAL_PYTHON) and eng.has_image(OFFICIAL_UV)
        if not present and base == "auto":
            present = all(eng.run("pull", image, check=False, timeout=60).returncode == 0 for image in OFFICIALS)
        if present or base == "official":
            return OFFICIAL_PYTHON, OFFICIAL_UV
        _say("no registry reachable: building the base images locally")
    _local_python(eng)
    _local_uv(eng)
    return LOCAL_PYTHON, LOCAL_UV


def build_args() -> dict[str, dict[str, str]]:
    """Each service's build arguments (SERVICE, PORT) as skaffold.yaml gives them: one source."""
    config = yaml.safe_load((ROOT / "skaffold.yaml").read_text())
    found = {}
    for artifact in config["build"]["artifacts"]:
        args = {k: str(v) for k, v in artifact["docker"]["buildArgs"].items()}
        found[args["SERVICE"]] = args
    return found


def healthcheck(inspected: dict[str, Any]) -> list[str] | None:
    """The image's HEALTHCHECK command: Docker keeps it in Config, podman beside it."""
    check = inspected.get("Config", {}).get("Healthcheck") or inspected.get("Healthcheck") or {}
    test = check.get("Test")
    return list(test) if test else None


def image_name(service: str, tag: str) -> str:
    return f"localhost/threadline-{service}:{tag}"


def build(base: str = "auto", tag: str = "dev", services: tuple[str, ...] = SERVICES) -> dict[str, dict[str, object]]:
    eng = engine()
    python_image, uv_image = base_images(eng, base)
    built: dict[str, dict[str, object]] = {}
    arguments = build_args()
    for service in services:
        started = time.monotonic()
        pull = ["--pull=never"] if eng.is_podman else []
        eng.run(
            "build", *pull, "--format", "docker", "-f", str(ROOT / "Dockerfile"),
            *(f"--build-arg={k}={v}" for k, v in arguments[service].items()),
            "--build-arg", f"PYTHON_IMAGE={python_image}",
            "--build-arg", f"UV_IMAGE={uv_image}", "-t", image_name(service, tag), str(ROOT),
        )  # fmt: skip
        inspected = json.loads(eng.run("image", "inspect", image_name(service, tag)).stdout)[0]
        built[service] = {
            "image": image_name(service, tag),
            "size_mb": round(int(inspected["Size"]) / 1e6, 1),
            "build_s": round(time.monotonic() - started, 1),
            "user": inspected.get("Config", {}).get("User"),
            "healthcheck": healthcheck(inspected),
        }
        _say(f"{service}: {built[service]}")
    return built


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m threadline_devstack.images")
    parser.add_argument("command", choices=["build"])
    parser.add_argument(
        "--base", choices=["auto", "official", "local"], default=os.environ.get("THREADLINE_BASE", "auto")
    )
    parser.add_argument("--tag", default="dev")
    parser.add_argument("services", nargs="*", default=list(SERVICES))
    args = parser.parse_args(argv)
    try:
        built = build(args.base, args.tag, tuple(args.services))
    except ToolError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(built, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

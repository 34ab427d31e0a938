"""The services as containers of their production images, in place of processes.

A `ContainerService` takes the `ManagedProcess` the stack would start (its name and environment,
from `threadline_devstack.services`) and runs the same service from its image instead, through
testcontainers against the Docker API (Docker's, or podman's `system service`). So the image
tests play the same stories as the process tests, against the production artefacts.

- Host networking: the test session's Kafka, Elasticsearch and sandboxes listen on 127.0.0.1,
  and the services on the ports the stack chose, exactly as processes would.
- Files the environment names (the channels file) are bind-mounted read-only; the data
  directories become directories inside the container.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from threadline_devstack.images import image_name, podman_env
from threadline_devstack.processes import ManagedProcess

# The services' entry modules, and the image each runs from.
IMAGES = {
    "threadline_ingest": "ingest",
    "threadline_router": "router",
    "threadline_zendesk_sync": "zendesk-sync",
    "threadline_reporter": "reporter",
}


@contextlib.contextmanager
def docker_api() -> Iterator[str]:
    """DOCKER_HOST for testcontainers: the user's own, or a podman API service for the duration."""
    if os.environ.get("DOCKER_HOST") or Path("/var/run/docker.sock").exists():
        yield os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        return
    podman = shutil.which("podman")
    if podman is None:
        raise RuntimeError("no Docker API: install Docker, or podman (`make images` installs it)")
    with tempfile.TemporaryDirectory(prefix="threadline-podman-") as tmp:
        socket = Path(tmp) / "podman.sock"
        service = subprocess.Popen(  # noqa: S603
            [podman, "system", "service", "--time=0", f"unix://{socket}"],
            env=podman_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while not socket.exists():
                if service.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("podman system service did not start")
                time.sleep(0.1)
            saved = {k: os.environ.get(k) for k in _TESTCONTAINERS_ENV}
            os.environ.update({**_TESTCONTAINERS_ENV, "DOCKER_HOST": f"unix://{socket}"})
            try:
                yield f"unix://{socket}"
            finally:
                for key, value in saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
        finally:
            service.terminate()
            service.wait(timeout=30)


# What testcontainers needs against podman here: the reaper image cannot be pulled without a
# registry, and this machine's /.dockerenv makes testcontainers think it runs in a container.
_TESTCONTAINERS_ENV = {
    "TESTCONTAINERS_RYUK_DISABLED": "true",
    "TESTCONTAINERS_CONNECTION_MODE": "docker_host",
}


@dataclass
class ContainerService:
    """The ManagedProcess interface the tests use (start, stop, kill, alive, log_tail)."""

    process: ManagedProcess
    tag: str = "dev"
    container: Any = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.process.name

    @property
    def image(self) -> str:
        module = self.process.argv[self.process.argv.index("-m") + 1]
        return image_name(IMAGES[module], self.tag)

    def start(self) -> ContainerService:
        from testcontainers.core.container import DockerContainer

        container = DockerContainer(self.image).with_kwargs(network_mode="host", user="10001:10001")
        for key, value in self.process.env.items():
            if key.endswith("_DATA_DIR"):
                value = f"/tmp/{self.name}"  # noqa: S108 - inside the container
            elif key.endswith("_FILE") and Path(value).is_file():
                inside = f"/config/{Path(value).name}"
                container = container.with_volume_mapping(str(Path(value).resolve()), inside, "ro")
                value = inside
            if key.endswith(("_WEB_PORT", "INGEST_PORT")):
                # The image's HEALTHCHECK asks the port THREADLINE_WEB_PORT names.
                container = container.with_env("THREADLINE_WEB_PORT", value)
            container = container.with_env(key, value)
        self.container = container.start()
        return self

    def _wrapped(self) -> Any:
        return self.container.get_wrapped_container() if self.container is not None else None

    def alive(self) -> bool:
        wrapped = self._wrapped()
        if wrapped is None:
            return False
        wrapped.reload()
        return bool(wrapped.status == "running")

    def kill(self) -> None:
        wrapped = self._wrapped()
        if wrapped is not None:
            with contextlib.suppress(Exception):
                wrapped.kill()
            self._remove()

    def stop(self, timeout: float = 15.0) -> None:
        wrapped = self._wrapped()
        if wrapped is not None:
            with contextlib.suppress(Exception):
                wrapped.stop(timeout=int(timeout))
            self._remove()

    def _remove(self) -> None:
        with contextlib.suppress(Exception):
            self._wrapped().remove(force=True)
        self.container = None

    def log_tail(self, lines: int = 40) -> str:
        wrapped = self._wrapped()
        if wrapped is None:
            return "(no container)"
        return str(wrapped.logs(tail=lines).decode(errors="replace"))

    def health(self) -> str | None:
        """The image's own HEALTHCHECK verdict (starting, healthy, unhealthy), as the engine keeps it."""
        wrapped = self._wrapped()
        if wrapped is None:
            return None
        wrapped.reload()
        state = wrapped.attrs.get("State", {})
        health = state.get("Health") or state.get("Healthcheck") or {}
        status = health.get("Status")
        return str(status) if status else None

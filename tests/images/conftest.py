"""The production images, built once for the session (`make images` builds them beforehand)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from threadline_devstack import images
from threadline_devstack.containers import docker_api

TAG = "dev"


@pytest.fixture(scope="session")
def built() -> dict[str, dict[str, object]]:
    """The four images; built when missing (`make images` builds them beforehand)."""
    engine = images.engine()
    missing = tuple(s for s in images.SERVICES if not engine.has_image(images.image_name(s, TAG)))
    if missing:
        images.build(tag=TAG, services=missing)
    found = {}
    for service in images.SERVICES:
        [inspected] = json.loads(engine.run("image", "inspect", images.image_name(service, TAG)).stdout)
        found[service] = inspected
    return found


@pytest.fixture(scope="session")
def api(built) -> Iterator[str]:
    with docker_api() as url:
        yield url

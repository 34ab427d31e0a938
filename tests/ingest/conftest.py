"""Fixtures of the ingest tests: the app on the real broker, under this test's topic prefix."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from ingest.support import make_settings, serving

from threadline_common.settings import KafkaSettings
from threadline_ingest.app import create_app


@pytest.fixture
def kafka_settings(kafka_bootstrap, kafka_topics) -> KafkaSettings:
    return KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=kafka_topics.prefix)


@pytest.fixture
def app_factory(kafka_settings) -> Callable[..., FastAPI]:
    def build(**overrides: Any) -> FastAPI:
        return create_app(make_settings(**overrides), kafka_settings)

    return build


@pytest.fixture
async def client(app_factory) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(app_factory()) as client:
        yield client

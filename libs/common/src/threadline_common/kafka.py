"""Kafka client configuration, built in one place from KafkaSettings.

Producers are idempotent with acks=all: a record acknowledged to a caller is on every in-sync
replica and a retry inside the client never duplicates it. Consumers never auto-commit: each
service commits after its effect is done.
"""

from __future__ import annotations

import ssl
from typing import Any

from threadline_common.causality import MAX_RECORD_BYTES
from threadline_common.settings import KafkaSettings


def _security(settings: KafkaSettings) -> dict[str, Any]:
    conf: dict[str, Any] = {"security.protocol": settings.security_protocol}
    if settings.sasl_mechanism:
        conf["sasl.mechanism"] = settings.sasl_mechanism
        conf["sasl.username"] = settings.sasl_username or ""
        conf["sasl.password"] = settings.sasl_password.get_secret_value() if settings.sasl_password else ""
    if settings.ssl_ca_location:
        conf["ssl.ca.location"] = settings.ssl_ca_location
    if settings.ssl_certificate_location:
        conf["ssl.certificate.location"] = settings.ssl_certificate_location
    if settings.ssl_key_location:
        conf["ssl.key.location"] = settings.ssl_key_location
    return conf


def producer_config(settings: KafkaSettings, **overrides: Any) -> dict[str, Any]:
    conf: dict[str, Any] = {
        "bootstrap.servers": settings.bootstrap_servers,
        "client.id": settings.client_id,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 2,
        "compression.type": "lz4",
        # Bounded so that a caller waiting for the acknowledgement gets an answer in time.
        "delivery.timeout.ms": 30000,
        "request.timeout.ms": 10000,
        "message.max.bytes": MAX_RECORD_BYTES,
    }
    conf.update(_security(settings))
    conf.update(overrides)
    return conf


def consumer_config(settings: KafkaSettings, group_id: str, **overrides: Any) -> dict[str, Any]:
    conf: dict[str, Any] = {
        "bootstrap.servers": settings.bootstrap_servers,
        "client.id": settings.client_id,
        "group.id": group_id,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
        "partition.assignment.strategy": "cooperative-sticky",
    }
    conf.update(_security(settings))
    conf.update(overrides)
    return conf


def admin_config(settings: KafkaSettings, **overrides: Any) -> dict[str, Any]:
    conf: dict[str, Any] = {"bootstrap.servers": settings.bootstrap_servers, "client.id": settings.client_id}
    conf.update(_security(settings))
    conf.update(overrides)
    return conf


def faust_broker_options(settings: KafkaSettings) -> dict[str, Any]:
    """Keyword arguments for faust.App(...) that connect it the same way (aiokafka underneath)."""
    hosts = [h.strip() for h in settings.bootstrap_servers.split(",") if h.strip()]
    options: dict[str, Any] = {
        "broker": ";".join(f"kafka://{h}" for h in hosts),
        "producer_max_request_size": MAX_RECORD_BYTES,
        # A broker that has just restarted can answer metadata without the topics it has not loaded
        # yet; aiokafka then subscribes to nothing and looks again only at the metadata's maximum
        # age (5 minutes by default): the broker-restart drill saw zendesk-sync idle that long.
        "consumer_metadata_max_age_ms": 10_000,
    }
    protocol = settings.security_protocol
    if protocol == "PLAINTEXT":
        return options
    import faust  # imported here: only the stream processors depend on faust

    context: ssl.SSLContext | None = None
    if protocol in ("SSL", "SASL_SSL"):
        context = ssl.create_default_context(cafile=settings.ssl_ca_location)
        if settings.ssl_certificate_location:
            context.load_cert_chain(settings.ssl_certificate_location, settings.ssl_key_location)
    if protocol.startswith("SASL"):
        password = settings.sasl_password.get_secret_value() if settings.sasl_password else ""
        options["broker_credentials"] = faust.SASLCredentials(
            username=settings.sasl_username or "",
            password=password,
            mechanism=settings.sasl_mechanism or "PLAIN",
            ssl_context=context,
        )
    elif context is not None:
        options["broker_credentials"] = faust.SSLCredentials(context)
    return options

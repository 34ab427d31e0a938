import pytest
from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from threadline_common.dlq import dead_letter, dlq_reason
from threadline_common.kafka import consumer_config, producer_config
from threadline_common.settings import KafkaSettings, ServiceSettings, SettingsError, load_settings

pytestmark = pytest.mark.unit


class ExampleSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="EXAMPLE_", extra="ignore")
    api_token: SecretStr
    workspace: str


def test_missing_required_settings_are_named(monkeypatch, capsys):
    monkeypatch.delenv("EXAMPLE_API_TOKEN", raising=False)
    monkeypatch.setenv("EXAMPLE_WORKSPACE", "T1")
    with pytest.raises(SettingsError) as exc:
        load_settings(ExampleSettings)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "EXAMPLE_API_TOKEN is required" in err
    assert "EXAMPLE_WORKSPACE" not in err


def test_placeholder_secret_is_rejected(monkeypatch, capsys):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "k:9092")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "changeme")
    with pytest.raises(SettingsError):
        load_settings(KafkaSettings)
    assert "placeholder" in capsys.readouterr().err


def test_secret_is_not_shown_in_repr(monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "k:9092")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "s3cr3t-value")
    settings = load_settings(KafkaSettings)
    assert "s3cr3t-value" not in repr(settings)


def test_producer_is_idempotent_and_waits_for_all_replicas():
    conf = producer_config(KafkaSettings(bootstrap_servers="k:9092"))
    assert conf["enable.idempotence"] is True
    assert conf["acks"] == "all"
    assert conf["bootstrap.servers"] == "k:9092"


def test_consumer_never_auto_commits_and_sasl_is_passed_through():
    settings = KafkaSettings(
        bootstrap_servers="k:9093",
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="u",
        sasl_password=SecretStr("p4ss"),
    )
    conf = consumer_config(settings, "g1")
    assert conf["enable.auto.commit"] is False
    assert conf["group.id"] == "g1"
    assert conf["security.protocol"] == "SASL_SSL"
    assert conf["sasl.password"] == "p4ss"


def test_dead_letter_keeps_raw_bytes_and_says_why():
    letter = dead_letter(
        source_topic="threadline.slack.events",
        partition=3,
        offset=42,
        key=b"k",
        value=b"\xff not json",
        reason="undecodable JSON",
        error=ValueError("bad"),
        original_headers=[("x", b"y")],
        service="router",
    )
    assert letter.topic == "threadline.slack.events.dlq"
    assert letter.value == b"\xff not json"
    assert ("x", b"y") in letter.headers
    reason = dlq_reason(letter.headers)
    assert reason["reason"] == "undecodable JSON"
    assert reason["error-type"] == "ValueError"
    assert reason["source-offset"] == "42"
    assert reason["source-partition"] == "3"

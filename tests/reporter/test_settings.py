"""The settings the Helm chart passes are real settings of the reporter (and the chart passes the
required ones), read from the chart's templates and values schema without rendering anything;
and the Elasticsearch CA setting reaches the client."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from threadline_reporter.service import elasticsearch_client
from threadline_reporter.settings import KibanaSettings, ReporterSettings, unknown_variables

pytestmark = pytest.mark.unit
CHART = Path(__file__).resolve().parents[2] / "charts" / "threadline"
NAME = re.compile(r"\bTHREADLINE_REPORTER_[A-Z0-9_]*[A-Z0-9]\b(?!\*)")


def env_names(cls: type[ReporterSettings] | type[KibanaSettings]) -> set[str]:
    return {f"THREADLINE_REPORTER_{name.upper()}" for name in cls.model_fields}


def required(cls: type[ReporterSettings] | type[KibanaSettings]) -> set[str]:
    return {f"THREADLINE_REPORTER_{name.upper()}" for name, f in cls.model_fields.items() if f.is_required()}


def named_in(path: Path) -> set[str]:
    return set(NAME.findall(path.read_text()))


def schema_env(definition: str) -> set[str]:
    definitions = json.loads((CHART / "values.schema.json").read_text()).get("definitions", {})
    return set((definitions.get(definition) or {}).get("properties", {}))


def test_every_variable_the_reporter_deployment_sets_is_a_reporter_setting():
    names = named_in(CHART / "templates" / "reporter.yaml")
    assert "THREADLINE_REPORTER_ELASTICSEARCH_CA_CERTS" in names
    assert names - env_names(ReporterSettings) == set()
    assert required(ReporterSettings) <= names


def test_every_variable_the_kibana_job_sets_is_a_setting_of_the_import_command():
    names = named_in(CHART / "templates" / "kibana-job.yaml")
    assert names - env_names(KibanaSettings) == set()
    assert required(KibanaSettings) <= names
    # The Job's command is the one the reporter's entry point has.
    values = (CHART / "values.yaml").read_text()
    assert "command: [python, -m, threadline_reporter, kibana, import]" in values


def test_the_names_values_files_and_the_schema_allow_are_settings_too():
    examples = [CHART / "values.yaml", *sorted((CHART / "ci").glob("*.yaml"))]
    allowed = env_names(ReporterSettings) | env_names(KibanaSettings)
    for path in examples:
        assert named_in(path) - allowed == set(), path.name
    assert schema_env("reporterEnv") - env_names(ReporterSettings) == set()
    assert schema_env("kibanaEnv") - env_names(KibanaSettings) == set()


def test_a_misspelt_variable_is_reported_not_silently_ignored():
    environ = {"THREADLINE_REPORTER_ELASTICSEARCH_URL": "x", "THREADLINE_REPORTER_DAILYAT": "08:00", "HOME": "/"}
    assert unknown_variables(environ) == ["THREADLINE_REPORTER_DAILYAT"]
    assert unknown_variables({"THREADLINE_REPORTER_KIBANA_URL": "http://kibana:5601"}) == []


def test_the_elasticsearch_ca_file_reaches_the_client(tmp_path, monkeypatch):
    ca = tmp_path / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")  # the client reads it at its first TLS connection
    monkeypatch.setenv("THREADLINE_REPORTER_ELASTICSEARCH_URL", "https://es.internal:9200")
    monkeypatch.setenv("THREADLINE_REPORTER_ELASTICSEARCH_CA_CERTS", str(ca))
    monkeypatch.setenv("THREADLINE_REPORTER_API_ENABLED", "false")
    settings = ReporterSettings()
    client = elasticsearch_client(settings)
    try:
        node = client.transport.node_pool.get()
        assert node.config.ca_certs == str(ca) and node.config.scheme == "https"
    finally:
        client.close()
    monkeypatch.setenv("THREADLINE_REPORTER_ELASTICSEARCH_CA_CERTS", str(tmp_path / "missing.crt"))
    with pytest.raises(ValidationError, match="elasticsearch_ca_certs"):
        ReporterSettings()

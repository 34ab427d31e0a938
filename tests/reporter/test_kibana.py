"""Kibana's saved objects: the bundled ndjson is what the code makes, every field a chart uses is
in the index templates with a type that fits, and `python -m threadline_reporter kibana import`
talks to Kibana's saved objects import API as Kibana documents it (a local server checks it)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from threadline_reporter.indices import CONVERSATION_MAPPING, EVENT_MAPPING, Names
from threadline_reporter.kibana import bundled_ndjson, parse_ndjson
from threadline_reporter.kibana.objects import DEFAULT_PREFIX, for_prefix, saved_objects, to_ndjson

pytestmark = pytest.mark.unit
NDJSON = Path(__file__).resolve().parents[2] / "services/reporter/src/threadline_reporter/kibana/threadline.ndjson"
NUMERIC = {"long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float"}
DATES = {"date", "date_nanos"}


def flat(mapping: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for name, spec in mapping["properties"].items():
        if "properties" in spec:
            out.update(flat(spec, f"{prefix}{name}."))
        else:
            out[f"{prefix}{name}"] = spec["type"]
    return out


# The fields of each data view: the template of the alias its title names.
NAMES = Names(DEFAULT_PREFIX)
FIELDS = {NAMES.events: flat(EVENT_MAPPING), NAMES.conversations: flat(CONVERSATION_MAPPING)}
OBJECTS = parse_ndjson(NDJSON.read_text())
BY_ID = {(o["type"], o["id"]): o for o in OBJECTS}


def views_of(obj: dict[str, Any]) -> dict[str, str]:
    """Layer id -> data view title, through the object's references."""
    out = {}
    for ref in obj["references"]:
        name = ref["name"]
        if ref["type"] == "index-pattern" and name.startswith("indexpattern-datasource-layer-"):
            view = BY_ID[("index-pattern", ref["id"])]
            out[name.removeprefix("indexpattern-datasource-layer-")] = view["attributes"]["title"]
    return out


KQL_TERM = re.compile(r"([\w.]+)\s*:\s*(\([^)]*\)|\S+)")


def kql_problems(query: str, fields: dict[str, str]) -> list[str]:
    """`field : value` and `field : (a or b)` clauses: the field exists, and the values fit its type."""
    problems = []
    for name, value in KQL_TERM.findall(query):
        kind = fields.get(name)
        values = [v for v in re.split(r"\s+or\s+", value.strip("()")) if v]
        if kind is None:
            problems.append(f"{name}: not in the template")
        elif values == ["*"]:
            continue
        elif kind == "boolean" and not set(values) <= {"true", "false"}:
            problems.append(f"{name}: boolean, filtered on {values}")
        elif kind in NUMERIC and not all(re.fullmatch(r"-?\d+(\.\d+)?", v) for v in values):
            problems.append(f"{name}: numeric, filtered on {values}")
        elif kind not in {"keyword", "boolean", *NUMERIC}:
            problems.append(f"{name}: {kind} cannot be filtered on a value")
    return problems


def column_problem(column: dict[str, Any], fields: dict[str, str]) -> str | None:
    operation, source = column["operationType"], column["sourceField"]
    if operation == "count":
        return None if source == "___records___" or source in fields else f"count of {source}: no such field"
    kind = fields.get(source)
    if kind is None:
        return f"{operation} of {source}: not in the template"
    fits = {
        "terms": kind == "keyword",
        "date_histogram": kind in DATES,
        "unique_count": kind in {"keyword", *NUMERIC},
    }.get(operation, kind in NUMERIC)  # median, percentile, sum, average, min, max
    return None if fits else f"{operation} of {source}: a {kind} field does not fit"


def test_the_bundled_file_is_what_the_code_makes_and_ships_in_the_package():
    assert NDJSON.read_text() == to_ndjson(saved_objects()), (
        "regenerate: python -m threadline_reporter kibana export > " + str(NDJSON)
    )
    assert bundled_ndjson() == NDJSON.read_text()  # read through the package, as the image does
    kinds = sorted(o["type"] for o in OBJECTS)
    assert kinds.count("index-pattern") == 2 and kinds.count("dashboard") == 1 and kinds.count("lens") >= 6


def test_data_views_name_the_aliases_and_a_date_field_to_filter_time_on():
    views = {o["attributes"]["title"]: o["attributes"] for o in OBJECTS if o["type"] == "index-pattern"}
    assert set(views) == {NAMES.events, NAMES.conversations}
    for title, attributes in views.items():
        assert FIELDS[title][attributes["timeFieldName"]] in DATES
        for name, format_spec in json.loads(attributes["fieldFormatMap"]).items():
            assert FIELDS[title].get(name) in NUMERIC and format_spec["id"] == "duration"


def test_every_field_a_chart_uses_is_in_the_templates_with_a_type_that_fits():
    problems = []
    charts = [o for o in OBJECTS if o["type"] == "lens"]
    for chart in charts:
        state = chart["attributes"]["state"]
        layers = state["datasourceStates"]["formBased"]["layers"]
        views = views_of(chart)
        assert set(views) == set(layers), f"{chart['id']}: a layer without its data view"
        for layer_id, layer in layers.items():
            fields = FIELDS[views[layer_id]]
            assert set(layer["columnOrder"]) == set(layer["columns"])
            for column_id, column in layer["columns"].items():
                problem = column_problem(column, fields)
                if problem:
                    problems.append(f"{chart['id']}/{column_id}: {problem}")
                query = (column.get("filter") or {}).get("query")
                problems += [f"{chart['id']}/{column_id}: {p}" for p in kql_problems(query or "", fields)]
            problems += [f"{chart['id']}: {p}" for p in kql_problems(state["query"]["query"], fields)]
        assert not state["filters"]
    assert not problems, "\n".join(problems)
    # What the dashboard is for: volume, backlog, response and resolution times, by channel and responder.
    used = {
        (c["operationType"], c["sourceField"])
        for chart in charts
        for layer in chart["attributes"]["state"]["datasourceStates"]["formBased"]["layers"].values()
        for c in layer["columns"].values()
    }
    for needed in (
        ("date_histogram", "opened_at"),
        ("terms", "channel_id"),
        ("terms", "status"),
        ("median", "time_to_first_response_seconds"),
        ("median", "time_to_resolution_seconds"),
        ("terms", "first_responder_id"),
        ("terms", "actor.id"),
        ("terms", "question_terms"),  # common requests
    ):
        assert needed in used
    # Ranked by significance, Kibana offers one keyword field and no "Other" row (significant_terms).
    significant = [
        c
        for chart in charts
        for layer in chart["attributes"]["state"]["datasourceStates"]["formBased"]["layers"].values()
        for c in layer["columns"].values()
        if c["operationType"] == "terms" and c["params"]["orderBy"]["type"] == "significant"
    ]
    assert significant and all(
        not c["params"]["otherBucket"] and "secondaryFields" not in c["params"] for c in significant
    )


def test_kql_check_catches_what_it_should():
    fields = FIELDS[NAMES.conversations]
    assert kql_problems("is_open : true and status : (open or pending)", fields) == []
    assert kql_problems("is_open : yes", fields) == ["is_open: boolean, filtered on ['yes']"]
    assert kql_problems("opened : x", fields) == ["opened: not in the template"]
    assert column_problem({"operationType": "median", "sourceField": "channel_id"}, fields)
    assert column_problem({"operationType": "terms", "sourceField": "time_to_resolution_seconds"}, fields)
    assert column_problem({"operationType": "date_histogram", "sourceField": "opened_at"}, fields) is None


def test_every_reference_resolves_within_the_file():
    dashboard = next(o for o in OBJECTS if o["type"] == "dashboard")
    panels = json.loads(dashboard["attributes"]["panelsJSON"])
    names = {r["name"]: r for r in dashboard["references"]}
    assert {p["panelRefName"] for p in panels} == set(names)
    for obj in OBJECTS:
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in BY_ID, f"{obj['id']} -> {ref}"
    grid = [(p["gridData"]["x"], p["gridData"]["w"]) for p in panels]
    assert all(x + w <= 48 for x, w in grid)


def test_another_index_prefix_gets_its_own_ids_and_aliases():
    renamed = for_prefix(OBJECTS, "acme-")
    ids = {o["id"] for o in renamed}
    assert all(i.startswith("acme-") for i in ids)
    views = {o["attributes"]["title"] for o in renamed if o["type"] == "index-pattern"}
    assert views == {Names("acme-").events, Names("acme-").conversations}
    assert all(ref["id"] in ids for o in renamed for ref in o["references"])
    assert OBJECTS[0]["id"] == "threadline-events"  # the original is left alone


# --- the import command against a local server that checks requests as Kibana's API documents ------


@dataclass
class FakeKibana:
    """POST /api/saved_objects/_import (and /s/<space>/...): requires kbn-xsrf, a multipart body
    with the file in the field `file` (name ending .ndjson); answers like Kibana, including
    `success: false` with missing_references for references that resolve nowhere."""

    known: set[tuple[str, str]] = field(default_factory=set)
    answers: list[int] = field(default_factory=list)  # statuses to give before the real answer
    requests: list[dict[str, Any]] = field(default_factory=list)

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        url = urlsplit(path)
        record: dict[str, Any] = {"path": url.path, "query": parse_qs(url.query), "headers": headers}
        self.requests.append(record)
        if self.answers:
            return self.answers.pop(0), {"statusCode": 503, "message": "Kibana server is not ready yet"}
        if method != "POST" or not re.fullmatch(r"(/s/[a-z0-9_-]+)?/api/saved_objects/_import", url.path):
            return 404, {"statusCode": 404, "message": "Not Found"}
        if "kbn-xsrf" not in headers:
            return 400, {"statusCode": 400, "message": "Request must contain a kbn-xsrf header."}
        content_type = headers.get("content-type", "")
        if not content_type.startswith("multipart/form-data"):
            return 415, {"statusCode": 415, "message": "Unsupported Media Type"}
        message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
        files = [p for p in message.iter_parts() if p.get_param("name", header="content-disposition") == "file"]
        if len(files) != 1:
            return 400, {"statusCode": 400, "message": "[request body.file]: expected value of type [Stream]"}
        filename = files[0].get_filename() or ""
        if not filename.endswith(".ndjson"):
            return 400, {"statusCode": 400, "message": f"Invalid file extension {Path(filename).suffix}"}
        objects = [json.loads(line) for line in files[0].get_payload(decode=True).decode().splitlines() if line]
        record["objects"] = objects
        present = self.known | {(o["type"], o["id"]) for o in objects}
        errors, done = [], []
        for obj in objects:
            missing = [r for r in obj.get("references", []) if (r["type"], r["id"]) not in present]
            if missing:
                error = {
                    "type": "missing_references",
                    "references": [{"type": r["type"], "id": r["id"]} for r in missing],
                }
                errors.append({"id": obj["id"], "type": obj["type"], "error": error})
            else:
                done.append({"id": obj["id"], "type": obj["type"], "meta": {"title": obj["attributes"].get("title")}})
        if errors:
            return 200, {"success": False, "successCount": 0, "errors": errors, "warnings": []}
        overwrite = record["query"].get("overwrite") == ["true"]
        if not overwrite and self.known & {(o["type"], o["id"]) for o in objects}:
            conflicts = [{"id": o["id"], "type": o["type"], "error": {"type": "conflict"}} for o in objects]
            return 200, {"success": False, "successCount": 0, "errors": conflicts, "warnings": []}
        self.known |= {(o["type"], o["id"]) for o in objects}
        return 200, {"success": True, "successCount": len(done), "successResults": done, "warnings": []}


@pytest.fixture
def kibana() -> Iterator[tuple[FakeKibana, str]]:
    fake = FakeKibana()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, answer = fake.handle(self.command, self.path, headers, body)
            raw = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_POST = do_GET = _serve

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("THREADLINE_REPORTER_")}
    return subprocess.run(
        [sys.executable, "-m", "threadline_reporter", *args],
        env={**clean, "THREADLINE_REPORTER_LOG_FORMAT": "text", **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_chart_job_command_imports_every_object_with_the_cluster_key(kibana):
    fake, url = kibana
    # Exactly what charts/threadline/templates/kibana-job.yaml gives the container.
    env = {
        "THREADLINE_REPORTER_KIBANA_URL": url,
        "THREADLINE_REPORTER_INDEX_PREFIX": "prod-threadline-",
        "THREADLINE_REPORTER_ELASTICSEARCH_API_KEY": "aWQ6c2VjcmV0LWtleQ==",
    }
    for _ in range(2):  # a second install or upgrade overwrites the same objects
        done = run("kibana", "import", env=env)
        assert done.returncode == 0, done.stderr
        assert f"imported {len(OBJECTS)} saved objects" in done.stdout
    request = fake.requests[-1]
    assert request["path"] == "/api/saved_objects/_import" and request["query"]["overwrite"] == ["true"]
    assert request["headers"]["kbn-xsrf"] == "true"
    assert request["headers"]["authorization"] == "ApiKey aWQ6c2VjcmV0LWtleQ=="
    assert [o["id"] for o in request["objects"]] == [o["id"] for o in for_prefix(OBJECTS, "prod-threadline-")]
    assert {o["attributes"]["title"] for o in request["objects"] if o["type"] == "index-pattern"} == {
        "prod-threadline-events",
        "prod-threadline-conversations",
    }


def test_command_line_options_a_user_a_space_and_a_kibana_that_is_still_starting(kibana):
    fake, url = kibana
    fake.answers = [503]
    done = run("kibana", "import", "--url", f"{url}/", "--user", "elastic:s3cr3t-pw", "--space", "support")
    assert done.returncode == 0, done.stderr
    assert "not ready" in done.stderr  # it waited, and said so
    request = fake.requests[-1]
    assert request["path"] == "/s/support/api/saved_objects/_import"
    assert request["headers"]["authorization"] == "Basic ZWxhc3RpYzpzM2NyM3QtcHc="
    assert "s3cr3t-pw" not in done.stdout + done.stderr


def test_a_refused_import_fails_the_command_and_says_why(kibana, tmp_path):
    fake, url = kibana
    broken = tmp_path / "broken.ndjson"
    chart = next(o for o in OBJECTS if o["type"] == "lens")
    broken.write_text(json.dumps(chart) + "\n")  # its data view is neither in the file nor in Kibana
    done = run("kibana", "import", "--url", url, "--file", str(broken))
    assert done.returncode == 1
    assert "missing_references" in done.stderr and chart["id"] in done.stderr

    fake.answers = [401]
    done = run("kibana", "import", "--url", url, "--api-key", "bm9wZQ==", "--wait", "0")
    assert done.returncode == 1 and "401" in done.stderr and "credentials" in done.stderr

    broken.write_text("{not json\n")
    done = run("kibana", "import", "--url", url, "--file", str(broken))
    assert done.returncode == 1 and "line 1: not JSON" in done.stderr

    done = run("kibana", "import")
    assert done.returncode == 2 and "THREADLINE_REPORTER_KIBANA_URL" in done.stderr
    done = run("kibana", "import", "--url", "kibana:5601")
    assert done.returncode == 2 and "http:// or https://" in done.stderr

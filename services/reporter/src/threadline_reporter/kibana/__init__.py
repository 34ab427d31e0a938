"""Kibana: the reporter's saved objects (`threadline.ndjson` beside this module) and their import
through Kibana's saved objects import API.

    POST <kibana>[/s/<space>]/api/saved_objects/_import?overwrite=true
    kbn-xsrf: true
    Content-Type: multipart/form-data; the file in the field `file` (a name ending in .ndjson)

Importing again overwrites the same ids, so the chart's post-install/post-upgrade Job can run it
every time. Kibana answers 200 even when some objects fail; `success: false` lists them.
"""

from __future__ import annotations

import base64
import json
import logging
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from threadline_reporter.kibana.objects import for_prefix
from threadline_reporter.settings import KibanaSettings

log = logging.getLogger(__name__)
NDJSON_NAME = "threadline.ndjson"
# Kibana answers these while it starts or while Elasticsearch is not there yet.
RETRY_STATUSES = frozenset({502, 503, 504})


class KibanaError(RuntimeError):
    """The import did not happen, or not completely; the message says what Kibana said."""


def bundled_ndjson() -> str:
    return resources.files(__name__).joinpath(NDJSON_NAME).read_text(encoding="utf-8")


def parse_ndjson(text: str, source: str = NDJSON_NAME) -> list[dict[str, Any]]:
    """Saved objects, one JSON object a line; a broken line fails here, before Kibana sees any."""
    objects = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise KibanaError(f"{source} line {number}: not JSON ({exc})") from exc
        if not isinstance(obj, dict) or not obj.get("id") or not obj.get("type"):
            raise KibanaError(f"{source} line {number}: not a saved object (no id or type)")
        objects.append(obj)
    if not objects:
        raise KibanaError(f"{source}: no saved objects")
    return objects


def multipart(field: str, filename: str, content: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body with one file field, and its Content-Type."""
    boundary = f"threadline-{uuid.uuid4().hex}"
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
        "Content-Type: application/ndjson\r\n\r\n"
    ).encode()
    return head + content + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def authorization(settings: KibanaSettings) -> str | None:
    """Kibana's API key, else a user and password, else the cluster's API key (Kibana takes
    Elasticsearch API keys), else none (a Kibana without security)."""
    if settings.kibana_api_key is not None:
        return f"ApiKey {settings.kibana_api_key.get_secret_value()}"
    if settings.kibana_username:
        password = settings.kibana_password.get_secret_value() if settings.kibana_password else ""
        return "Basic " + base64.b64encode(f"{settings.kibana_username}:{password}".encode()).decode()
    if settings.elasticsearch_api_key is not None:
        return f"ApiKey {settings.elasticsearch_api_key.get_secret_value()}"
    return None


def import_url(settings: KibanaSettings) -> str:
    base = settings.kibana_url.rstrip("/")
    space = f"/s/{urllib.parse.quote(settings.kibana_space, safe='')}" if settings.kibana_space else ""
    return f"{base}{space}/api/saved_objects/_import?overwrite=true"


@dataclass(frozen=True)
class Imported:
    count: int
    objects: list[tuple[str, str]]  # (type, id)


def import_saved_objects(settings: KibanaSettings, objects: list[dict[str, Any]]) -> Imported:
    objects = for_prefix(objects, settings.index_prefix)
    body, content_type = multipart(
        "file", NDJSON_NAME, "".join(json.dumps(o, sort_keys=True) + "\n" for o in objects).encode()
    )
    headers = {"kbn-xsrf": "true", "Content-Type": content_type, "Accept": "application/json"}
    auth = authorization(settings)
    if auth:
        headers["Authorization"] = auth
    ca = settings.kibana_ca_certs or settings.elasticsearch_ca_certs
    context = ssl.create_default_context(cafile=str(ca)) if ca else None
    url = import_url(settings)
    deadline = time.monotonic() + settings.kibana_wait_seconds
    delay = 1.0
    while True:
        # The URL's scheme is http(s), checked by KibanaSettings.
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(  # noqa: S310
                request, timeout=settings.kibana_timeout_seconds, context=context
            ) as answer:
                result = json.loads(answer.read() or b"{}")
            break
        except urllib.error.HTTPError as exc:
            detail = _message(exc.read())
            if exc.code not in RETRY_STATUSES or time.monotonic() >= deadline:
                hint = " (check the credentials)" if exc.code in (401, 403) else ""
                raise KibanaError(f"Kibana answered {exc.code} to {url}: {detail}{hint}") from exc
            problem = f"{exc.code} {detail}"
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, ssl.SSLError) or time.monotonic() >= deadline:
                raise KibanaError(f"cannot reach Kibana at {url}: {reason}") from exc
            problem = str(reason)
        log.warning("Kibana is not ready (%s); trying again in %.0fs", problem, delay)
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, 10.0)
    if not result.get("success"):
        errors = result.get("errors") or []
        lines = [
            f"{e.get('type')} {e.get('id')}: {json.dumps(e.get('error'), sort_keys=True)}" for e in errors[:20]
        ] or [json.dumps(result)[:500]]
        raise KibanaError("Kibana did not import every saved object:\n  " + "\n  ".join(lines))
    done = [(r.get("type", "?"), r.get("destinationId") or r.get("id", "?")) for r in result.get("successResults", [])]
    return Imported(int(result.get("successCount", len(done))), done)


def _message(raw: bytes) -> str:
    try:
        data = json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")[:300]
    return str(data.get("message") or data.get("error") or data)[:300] if isinstance(data, dict) else str(data)[:300]


def load_objects(path: Path | None) -> list[dict[str, Any]]:
    if path is None:
        return parse_ndjson(bundled_ndjson())
    try:
        return parse_ndjson(path.read_text(encoding="utf-8"), str(path))
    except OSError as exc:
        raise KibanaError(f"cannot read {path}: {exc}") from exc

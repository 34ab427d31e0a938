"""The HTTP load tool: vegeta, built from its Go module into ~/.cache/threadline/tools/ once.

vegeta because a Slack delivery must be signed over its own body and every body must carry its
own event id (ingest answers a repeated event id from its cache without publishing): vegeta
reads a targets file where each request has its own body and headers. With `-rate=0` and
`-max-workers` it keeps a fixed number of requests in flight (a closed loop).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from threadline_devstack.bench.common import BenchError
from threadline_devstack.infra import cache_dir

VEGETA_MODULE = "github.com/tsenart/vegeta/v12"
VEGETA_VERSION = "v12.13.0"


def ensure_vegeta() -> Path:
    target = cache_dir() / "tools" / f"vegeta-{VEGETA_VERSION}"
    binary = target / "vegeta"
    if (target / ".complete").exists():
        return binary
    go = shutil.which("go")
    if go is None:
        raise BenchError("`go` is required to build the load tool (vegeta) from the Go module proxy")
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    print(f"installing vegeta {VEGETA_VERSION} from the Go module proxy (first run only)...", flush=True)
    result = subprocess.run(  # noqa: S603 - fixed argv
        [go, "install", "-trimpath", f"{VEGETA_MODULE}@{VEGETA_VERSION}"],
        env={**os.environ, "GOBIN": str(target), "CGO_ENABLED": "0"},
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BenchError(f"installing vegeta failed:\n{result.stderr[-3000:]}")
    (target / ".complete").touch()
    return binary


@dataclass(frozen=True)
class Request:
    url: str
    body: bytes
    headers: dict[str, str]


def write_targets(path: Path, requests: Iterable[Request]) -> int:
    """vegeta's JSON targets format: one request per line, body in base64."""
    count = 0
    with path.open("w") as out:
        for r in requests:
            line = {
                "method": "POST",
                "url": r.url,
                "body": base64.b64encode(r.body).decode(),
                "header": {k: [v] for k, v in r.headers.items()},
            }
            out.write(json.dumps(line, separators=(",", ":")) + "\n")
            count += 1
    return count


@dataclass(frozen=True)
class LoadResult:
    requests: int
    throughput: float  # successful requests per second
    p50_ms: float
    p99_ms: float
    mean_ms: float
    success: float
    status_codes: dict[str, int]
    errors: list[str]

    def as_json(self) -> dict[str, object]:
        return dict(self.__dict__)


def attack(vegeta: Path, targets: Path, concurrency: int, seconds: float, work_dir: Path) -> LoadResult:
    """Keep `concurrency` requests in flight for `seconds`; return vegeta's own report."""
    results = work_dir / f"{targets.stem}.bin"
    with results.open("wb") as out:
        subprocess.run(  # noqa: S603 - fixed argv
            [
                str(vegeta),
                "attack",
                "-format=json",
                f"-targets={targets}",
                "-rate=0",
                f"-workers={concurrency}",
                f"-max-workers={concurrency}",
                f"-duration={seconds}s",
                "-timeout=10s",
                "-keepalive=true",
            ],
            stdout=out,
            check=True,
        )
    report = subprocess.run(  # noqa: S603
        [str(vegeta), "report", "-type=json", str(results)], capture_output=True, text=True, check=True
    )
    data = json.loads(report.stdout)
    results.unlink(missing_ok=True)
    lat = data["latencies"]
    return LoadResult(
        requests=int(data["requests"]),
        throughput=float(data["throughput"]),
        p50_ms=lat["50th"] / 1e6,
        p99_ms=lat["99th"] / 1e6,
        mean_ms=lat["mean"] / 1e6,
        success=float(data["success"]),
        status_codes={str(k): int(v) for k, v in (data.get("status_codes") or {}).items()},
        errors=list(data.get("errors") or [])[:5],
    )

"""Ingest: signed Slack events per second and p50/p99 at a fixed concurrency, with vegeta.

Threadline: the ingest service (its entry point, as deployed) verifying each signature and
answering 200 once Kafka has the record. Baseline: a bare FastAPI endpoint under the same
uvicorn settings, fed the same kind of requests at the same concurrency. Rounds alternate
(ingest, baseline, ingest, baseline, ...) so a change in the machine's speed hits both; the
medians of the rounds are reported. Every body carries its own event id and is signed with a
fresh timestamp just before its round; afterwards the records in Kafka are counted against the
200s ingest gave, so a figure can not come from answers without records.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from threadline_devstack import services
from threadline_devstack.bench import loadtool
from threadline_devstack.bench.common import (
    BenchError,
    Budget,
    Figure,
    Metric,
    bench_topics,
    median,
    memory_mib,
    new_prefix,
)
from threadline_devstack.bench.events import message_body, signed_headers
from threadline_devstack.infra import free_port
from threadline_devstack.kafka_state import record_count
from threadline_devstack.processes import ManagedProcess

SECRET = "bench-slack-signing-secret"  # noqa: S105 - a local test secret
ZENDESK_SECRET = "bench-zendesk-webhook-secret"  # noqa: S105
CONCURRENCY = 32
ROUND_SECONDS = 6
ROUNDS = 3
# Enough distinct bodies that no round runs out (vegeta would start over and repeat event ids).
TARGETS_PER_ROUND = 40000


def _requests(url: str, n: int, round_no: int) -> list[loadtool.Request]:
    out = []
    for i in range(n):
        ts = f"{1_700_000_000 + round_no * 1_000_000 + i}.000100"
        body = message_body("C0SUPPORT", "U0ALICE", ts, f"bench message {round_no}-{i}: the VPN drops every hour")
        raw = json.dumps(body, separators=(",", ":")).encode()
        out.append(loadtool.Request(url, raw, signed_headers(SECRET, raw)))
    return out


def run(bootstrap: str, budget: Budget, quick: bool = False) -> Figure:
    figure = Figure(
        "ingest",
        "ingest",
        baseline="a bare FastAPI endpoint answering 200, same uvicorn settings, same requests and concurrency",
        note=(
            "one uvicorn process, its event loop saturated (cProfile: ~1.1 ms of main-thread CPU a request). "
            "Ingest's own work (signature 0.03 ms, JSON 0.03 ms, record and produce 0.12 ms, waiting for the ack) "
            "is about a third; the rest is the framework (routing, the metrics middleware, the response) and the "
            "event loop, which the baseline pays too. The p99 gap is the wait for the broker's acks=all "
            "acknowledgement. To close it: more uvicorn workers per pod or more pods (it scales out; one core "
            "per process), orjson for the record."
        ),
    )
    rounds = 1 if quick else ROUNDS
    seconds = 3 if quick else ROUND_SECONDS
    vegeta = loadtool.ensure_vegeta()
    prefix = new_prefix("ingest")
    with tempfile.TemporaryDirectory(prefix="threadline-bench-") as tmp, bench_topics(bootstrap, prefix):
        work = Path(tmp)
        env = services.ServiceEnv(bootstrap, prefix, work)
        ports = {"ingest": free_port(), "bare": free_port()}
        ingest = services.ingest(env, ports["ingest"], SECRET, ZENDESK_SECRET)
        bare = ManagedProcess(
            name="bare-fastapi",
            argv=[sys.executable, "-m", "threadline_devstack.bench.bare_app", "--port", str(ports["bare"])],
            run_dir=work,
        )
        urls = {
            "ingest": f"http://127.0.0.1:{ports['ingest']}/slack/events",
            "bare": f"http://127.0.0.1:{ports['bare']}/slack/events",
        }
        try:
            ingest.start()
            bare.start()
            services.wait_http(f"http://127.0.0.1:{ports['ingest']}/readyz", ingest)
            _wait_port(bare, ports["bare"])
            results: dict[str, list[loadtool.LoadResult]] = {"ingest": [], "bare": []}
            acknowledged = 0
            # A short warm-up of each (connections, JIT-free but caches and the producer's metadata).
            for name in ("ingest", "bare"):
                targets = work / f"warmup-{name}.json"
                loadtool.write_targets(targets, _requests(urls[name], 3000, 90 + len(name)))
                warm = loadtool.attack(vegeta, targets, CONCURRENCY, 1, work)
                if name == "ingest":
                    acknowledged += warm.status_codes.get("200", 0)
            for round_no in range(rounds):
                for name in ("ingest", "bare"):
                    targets = work / f"round{round_no}-{name}.json"
                    n = loadtool.write_targets(targets, _requests(urls[name], TARGETS_PER_ROUND, round_no))
                    result = loadtool.attack(vegeta, targets, CONCURRENCY, seconds, work)
                    targets.unlink()
                    if result.requests > n:
                        raise BenchError(f"{name} took {result.requests} requests, more than the {n} distinct bodies")
                    results[name].append(result)
                    if name == "ingest":
                        acknowledged += result.status_codes.get("200", 0)
            memory = {"ingest": memory_mib(_pid(ingest)), "bare FastAPI": memory_mib(_pid(bare))}
        finally:
            ingest.stop(timeout=30)
            bare.stop()
        in_kafka = record_count(bootstrap, prefix + "threadline.slack.events")
    if in_kafka < acknowledged:
        raise BenchError(f"ingest answered 200 to {acknowledged} events but Kafka has only {in_kafka} records")

    def med(name: str, attr: str) -> float:
        return median([getattr(r, attr) for r in results[name]])

    figure.add(
        Metric("signed Slack events/s", "req/s", med("ingest", "throughput"), med("bare", "throughput"), "higher"),
        Metric("p50 latency", "ms", med("ingest", "p50_ms"), med("bare", "p50_ms"), "lower"),
        Metric("p99 latency", "ms", med("ingest", "p99_ms"), med("bare", "p99_ms"), "lower"),
        Metric(
            "resident memory after load",
            "MiB",
            memory["ingest"].get("rss_mib"),
            memory["bare FastAPI"].get("rss_mib"),
            "lower",
        ),
    )
    details: dict[str, Any] = {
        "load_tool": f"vegeta {loadtool.VEGETA_VERSION}, closed loop (-rate=0), {CONCURRENCY} requests in flight",
        "rounds": rounds,
        "round_seconds": seconds,
        "order": "ingest, baseline, alternating; medians of the rounds",
        "ingest_rounds": [r.as_json() for r in results["ingest"]],
        "baseline_rounds": [r.as_json() for r in results["bare"]],
        "acknowledged_200": acknowledged,
        "records_in_kafka": in_kafka,
        "memory_mib": memory,
        "kafka": "the local broker, acks=all, idempotent producer (as deployed)",
    }
    figure.details = details
    return figure


def _pid(process: ManagedProcess) -> int:
    pid = process.running_pid()
    if pid is None:
        raise BenchError(f"{process.name} is not running:\n{process.log_tail()}")
    return pid


def _wait_port(process: ManagedProcess, port: int) -> None:
    from threadline_devstack.bench.common import wait_for
    from threadline_devstack.infra import port_in_use

    wait_for(f"{process.name} on port {port}", lambda: port_in_use(port) or not process.alive(), 30)
    if not process.alive():
        raise BenchError(f"{process.name} exited:\n{process.log_tail()}")

"""Ingest: signed Slack events per second and p50/p99 at a fixed concurrency, with vegeta.

Threadline: the ingest service (its entry point, as deployed, with the chart's default of one
uvicorn worker) verifying each signature and answering 200 once Kafka has the record. Baseline:
a bare FastAPI endpoint on one event loop under the same uvicorn settings, fed the same kind of
requests at the same concurrency. A second pair shows what WORKERS workers on each side do on
this machine (the chart's `ingest.workers`): both run in the same rounds. Rounds alternate
(ingest, bare, ingest with workers, bare with workers, ingest, ...) so a change in the machine's
speed hits all four; the medians of the rounds are reported. Every body carries its own event id
and is signed with a fresh timestamp just before its round; afterwards the records in Kafka are
counted against the 200s ingest gave, so a figure can not come from answers without records.
"""

from __future__ import annotations

import contextlib
import dataclasses
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
from threadline_devstack.bench.profiler import Cpu
from threadline_devstack.bench.stack import infra_pids
from threadline_devstack.infra import free_port
from threadline_devstack.kafka_state import record_count
from threadline_devstack.processes import ManagedProcess

SECRET = "bench-slack-signing-secret"  # noqa: S105 - a local test secret
ZENDESK_SECRET = "bench-zendesk-webhook-secret"  # noqa: S105
CONCURRENCY = 32
# uvicorn worker processes of the second pair: one a core of this machine.
WORKERS = 2
# The sides, in the order of a round, and their worker processes: ingest at the chart's default
# (one), the bare endpoint on one event loop, then both with WORKERS.
SIDES = {"ingest": 1, "bare": 1, "ingest workers": WORKERS, "bare workers": WORKERS}
ROUND_SECONDS = 6
ROUNDS = 3
# Enough distinct bodies that no round runs out (vegeta would start over and repeat event ids):
# the bare endpoint took 43,952 in a 6 s round on a quiet machine.
TARGETS_PER_ROUND = 90000
WARMUP_SECONDS = {"ingest": 5, "bare": 1, "ingest workers": 1, "bare workers": 1}


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
        baseline=(
            "a bare FastAPI endpoint answering 200 on one event loop, same uvicorn settings, same requests and "
            f"concurrency ({CONCURRENCY} in flight); ingest with the chart's default, one worker. Rows marked "
            f"'{WORKERS} workers each': both sides with {WORKERS} uvicorn workers, in the same rounds"
        ),
    )
    rounds = 1 if quick else ROUNDS
    seconds = 3 if quick else ROUND_SECONDS
    vegeta = loadtool.ensure_vegeta()
    prefix = new_prefix("ingest")
    with tempfile.TemporaryDirectory(prefix="threadline-bench-") as tmp, bench_topics(bootstrap, prefix):
        work = Path(tmp)
        env = services.ServiceEnv(bootstrap, prefix, work)
        ports = {name: free_port() for name in SIDES}
        ingests = {  # named apart: a process's name is its log's and its pid file's
            name: dataclasses.replace(
                services.ingest(env, ports[name], SECRET, ZENDESK_SECRET, workers=str(SIDES[name])),
                name=name.replace(" ", "-"),
            )
            for name in ("ingest", "ingest workers")
        }
        bares = {
            name: ManagedProcess(
                name=name.replace(" ", "-"),
                argv=[
                    *(sys.executable, "-m", "threadline_devstack.bench.bare_app"),
                    *("--port", str(ports[name]), "--workers", str(SIDES[name])),
                ],
                run_dir=work,
            )
            for name in ("bare", "bare workers")
        }
        servers = {**ingests, **bares}
        urls = {name: f"http://127.0.0.1:{port}/slack/events" for name, port in ports.items()}
        try:
            for server in servers.values():
                server.start()
            for name, ingest in ingests.items():
                services.wait_http(f"http://127.0.0.1:{ports[name]}/readyz", ingest)
            for name, bare in bares.items():
                _wait_port(bare, ports[name])
            results: dict[str, list[loadtool.LoadResult]] = {name: [] for name in SIDES}
            cpu: dict[str, list[dict[str, float]]] = {name: [] for name in SIDES}
            acknowledged = 0
            # A warm-up of each (connections, caches, the producer's metadata), ingest's longest:
            # a broker just started spends several seconds compiling its produce path (its CPU a
            # record was 4x a warm broker's in the first seconds), which no running cluster pays.
            for name in SIDES:
                targets = work / f"warmup-{name}.json"
                loadtool.write_targets(targets, _requests(urls[name], 8000 * WARMUP_SECONDS[name], 90 + len(name)))
                warm = loadtool.attack(vegeta, targets, CONCURRENCY, WARMUP_SECONDS[name], work)
                if name in ingests:
                    acknowledged += warm.status_codes.get("200", 0)
            for round_no in range(rounds):
                for name in SIDES:
                    targets = work / f"round{round_no}-{name}.json"
                    n = loadtool.write_targets(targets, _requests(urls[name], TARGETS_PER_ROUND, round_no))
                    pid = _pid(servers[name])
                    processes = {name: pid, **{f"{name} {i}": p for i, p in enumerate(_children(pid))}}
                    window = Cpu({**processes, **{k: v for k, v in infra_pids().items() if k == "kafka"}})
                    result = loadtool.attack(vegeta, targets, CONCURRENCY, seconds, work)
                    cpu[name].append(window.seconds())
                    targets.unlink()
                    if result.requests > n:
                        raise BenchError(f"{name} took {result.requests} requests, more than the {n} distinct bodies")
                    results[name].append(result)
                    if name in ingests:
                        acknowledged += result.status_codes.get("200", 0)
            memory = {name: _tree_memory(_pid(server)) for name, server in servers.items()}
        finally:
            for server in servers.values():
                server.stop(timeout=30)
        in_kafka = record_count(bootstrap, prefix + "threadline.slack.events")
    if in_kafka < acknowledged:
        raise BenchError(f"ingest answered 200 to {acknowledged} events but Kafka has only {in_kafka} records")

    def med(name: str, attr: str) -> float:
        return median([getattr(r, attr) for r in results[name]])

    each = f"{WORKERS} workers each"
    figure.add(
        Metric("signed Slack events/s", "req/s", med("ingest", "throughput"), med("bare", "throughput"), "higher"),
        Metric("p50 latency", "ms", med("ingest", "p50_ms"), med("bare", "p50_ms"), "lower"),
        Metric("p99 latency", "ms", med("ingest", "p99_ms"), med("bare", "p99_ms"), "lower"),
        Metric(
            "resident memory after load",
            "MiB",
            memory["ingest"]["rss_mib"],
            memory["bare"]["rss_mib"],
            "lower",
        ),
        Metric(
            "signed Slack events/s",
            "req/s",
            med("ingest workers", "throughput"),
            med("bare workers", "throughput"),
            "higher",
            each,
        ),
        Metric("p99 latency", "ms", med("ingest workers", "p99_ms"), med("bare workers", "p99_ms"), "lower", each),
        Metric(
            "resident memory per worker",
            "MiB",
            memory["ingest workers"]["per_worker_mib"],
            memory["bare workers"]["per_worker_mib"],
            "lower",
            f"{each}; their supervisor {memory['ingest workers']['supervisor_mib']:.0f} MiB besides",
        ),
    )
    per_request = {name: _cpu_per_request(cpu[name], results[name]) for name in SIDES}
    one, two = per_request["ingest"], per_request["ingest workers"]
    figure.note = (
        "the chart's default is one uvicorn worker a pod (an event loop and a producer), scaled by replicas: on "
        f"these 2 cores, shared with vegeta and the broker, {WORKERS} workers served "
        f"{med('ingest workers', 'throughput'):,.0f}/s against one worker's {med('ingest', 'throughput'):,.0f}/s "
        "(the bare endpoint likewise), and the broker spent more a record on one producer's records split in two. "
        f"CPU per request over the measured rounds, one worker: ingest's process {one['service']:.2f} ms and the "
        f"Kafka broker's {one['kafka']:.2f} ms, the bare endpoint's {per_request['bare']['service']:.2f} ms; "
        f"{each}: {two['service']:.2f}, {two['kafka']:.2f} and {per_request['bare workers']['service']:.2f} ms; the "
        f"rest of the machine (vegeta, other users) {one['other']:.2f} and {per_request['bare']['other']:.2f} ms. "
        "Ingest's webhook routes "
        "skip FastAPI's dependency solving and included-router matching (the same verifying function, then the "
        "endpoint) and its metrics are tallied in-process; what it adds to the bare endpoint is the signature, "
        "JSON, the record, the produce call, the delivery thread and the wait for the broker's acks=all "
        "acknowledgement (linger 5 ms, uncompressed), a wait that costs latency, not CPU."
    )
    details: dict[str, Any] = {
        "load_tool": f"vegeta {loadtool.VEGETA_VERSION}, closed loop (-rate=0), {CONCURRENCY} requests in flight",
        "rounds": rounds,
        "round_seconds": seconds,
        "order": ", ".join(SIDES) + ", in turn; medians of the rounds",
        "rounds_by_side": {name: [r.as_json() for r in results[name]] for name in SIDES},
        "acknowledged_200": acknowledged,
        "records_in_kafka": in_kafka,
        "memory_mib": memory,
        "workers": WORKERS,
        "cpu_seconds_rounds": cpu,
        "kafka": "the local broker, acks=all, idempotent producer (as deployed)",
    }
    figure.details = details
    return figure


def _children(pid: int) -> list[int]:
    """The processes a uvicorn supervisor started (its workers, multiprocessing's tracker)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            out.extend(int(c) for c in (task / "children").read_text().split())
    return out


def _tree_memory(pid: int) -> dict[str, Any]:
    """Resident memory of a server: the whole tree, each worker's (median), the rest's (supervisor)."""
    kids = _children(pid)
    workers = [k for k in kids if b"spawn_main" in Path(f"/proc/{k}/cmdline").read_bytes()]
    rss = {p: memory_mib(p).get("rss_mib", 0.0) for p in [pid, *kids]}
    per_worker = median([rss[w] for w in workers]) if workers else rss[pid]
    return {
        "rss_mib": round(sum(rss.values()), 1),
        "per_worker_mib": per_worker,
        "supervisor_mib": round(sum(v for p, v in rss.items() if p not in workers), 1) if workers else 0.0,
        "workers": len(workers) or 1,
    }


def _cpu_per_request(windows: list[dict[str, float]], rounds: list[loadtool.LoadResult]) -> dict[str, float]:
    """Milliseconds of CPU per request over all rounds: the server's processes, Kafka, the rest."""
    requests = max(1, sum(r.requests for r in rounds))
    service = kafka = other = 0.0
    for w in windows:
        for name, seconds in w.items():
            if name == "kafka":
                kafka += seconds
            elif name.startswith("other"):
                other += seconds
            elif name not in ("wall", "machine_capacity"):
                service += seconds
    return {"service": 1000 * service / requests, "kafka": 1000 * kafka / requests, "other": 1000 * other / requests}


def _pid(process: ManagedProcess) -> int:
    pid = process.running_pid()
    if pid is None:
        raise BenchError(f"{process.name} is not running:\n{process.log_tail()}")
    return pid


def _wait_port(process: ManagedProcess, port: int) -> None:
    from threadline_devstack.bench.common import wait_for
    from threadline_devstack.infra import port_in_use

    wait_for(f"{process.name} on port {port}", lambda: port_in_use(port) or not process.alive(), 60)
    if not process.alive():
        raise BenchError(f"{process.name} exited:\n{process.log_tail()}")

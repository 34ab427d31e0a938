"""Ingest: signed Slack events per second and p50/p99 at a fixed concurrency, with vegeta.

Threadline: the ingest service (its entry point, as deployed, with WORKERS uvicorn workers)
verifying each signature and answering 200 once Kafka has the record. Baseline: a bare FastAPI
endpoint under the same uvicorn settings and the same number of workers, fed the same kind of
requests at the same concurrency. Rounds alternate
(ingest, baseline, ingest, baseline, ...) so a change in the machine's speed hits both; the
medians of the rounds are reported. Every body carries its own event id and is signed with a
fresh timestamp just before its round; afterwards the records in Kafka are counted against the
200s ingest gave, so a figure can not come from answers without records.
"""

from __future__ import annotations

import contextlib
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
# uvicorn worker processes of both, ingest and the baseline: one a core of this machine, as the
# chart's default (ingest.workers).
WORKERS = 2
ROUND_SECONDS = 6
ROUNDS = 3
# Enough distinct bodies that no round runs out (vegeta would start over and repeat event ids):
# the bare endpoint took 43,952 in a 6 s round on a quiet machine.
TARGETS_PER_ROUND = 90000


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
            f"a bare FastAPI endpoint answering 200, same uvicorn settings and the same {WORKERS} uvicorn workers, "
            f"same requests and concurrency ({CONCURRENCY} in flight)"
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
        ingest = services.ingest(env, ports["ingest"], SECRET, ZENDESK_SECRET, workers=str(WORKERS))
        bare = ManagedProcess(
            name="bare-fastapi",
            argv=[
                *(sys.executable, "-m", "threadline_devstack.bench.bare_app"),
                *("--port", str(ports["bare"]), "--workers", str(WORKERS)),
            ],
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
            cpu: dict[str, list[dict[str, float]]] = {"ingest": [], "bare": []}
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
                    server = _pid(ingest if name == "ingest" else bare)
                    processes = {name: server, **{f"{name} {i}": p for i, p in enumerate(_children(server))}}
                    window = Cpu({**processes, **{k: v for k, v in infra_pids().items() if k == "kafka"}})
                    result = loadtool.attack(vegeta, targets, CONCURRENCY, seconds, work)
                    cpu[name].append(window.seconds())
                    targets.unlink()
                    if result.requests > n:
                        raise BenchError(f"{name} took {result.requests} requests, more than the {n} distinct bodies")
                    results[name].append(result)
                    if name == "ingest":
                        acknowledged += result.status_codes.get("200", 0)
            memory = {"ingest": _tree_memory(_pid(ingest)), "bare FastAPI": _tree_memory(_pid(bare))}
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
            "resident memory after load, all processes",
            "MiB",
            memory["ingest"]["rss_mib"],
            memory["bare FastAPI"]["rss_mib"],
            "lower",
            f"{WORKERS} workers and their supervisor",
        ),
        Metric(
            "resident memory per worker",
            "MiB",
            memory["ingest"]["per_worker_mib"],
            memory["bare FastAPI"]["per_worker_mib"],
            "lower",
        ),
    )
    per_request = {name: _cpu_per_request(cpu[name], results[name]) for name in ("ingest", "bare")}
    figure.note = (
        f"{WORKERS} uvicorn workers each (an event loop, and for ingest a producer, per process); the ratio "
        f"compares like with like. CPU per request over the measured rounds: ingest's processes "
        f"{per_request['ingest']['service']:.2f} ms and the Kafka broker's {per_request['ingest']['kafka']:.2f} ms, "
        f"the baseline's {per_request['bare']['service']:.2f} ms; the rest of the machine (vegeta, other users) "
        f"{per_request['ingest']['other']:.2f} ms and {per_request['bare']['other']:.2f} ms. Ingest's webhook routes "
        "skip FastAPI's dependency solving and included-router matching (the same verifying function, then the "
        "endpoint) and its metrics are tallied in-process; what it adds to the bare endpoint is the signature, "
        "JSON, the record, the produce call, the delivery thread and the wait for the broker's acks=all "
        "acknowledgement (linger 5 ms), a wait that costs latency, not CPU. Memory per worker: "
        f"{memory['ingest']['per_worker_mib']:.0f} MiB (supervisor {memory['ingest']['supervisor_mib']:.0f} MiB)."
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

"""`python -m threadline_devstack.bench [--only ingest,pipeline] [--quick] [--budget-minutes 14]`

Starts (or reuses) the local Kafka and Elasticsearch (`make infra`), runs each figure against
its baseline under its own topic and index prefix, and writes bench/results/latest.json and
latest.md. A figure that does not fit in what is left of the budget, or cannot be measured
yet, is written as "not measured" with the reason: never a made-up number.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from threadline_common.times import format_time
from threadline_devstack import infra
from threadline_devstack.bench import drain, end_to_end, indexing, ingest, pipeline, reports, scale
from threadline_devstack.bench.common import Budget, Figure, machine, table, write_results

# scale last: whether 1,000,000 conversations fit is decided on what is left of the budget.
# end_to_end writes two figures: end_to_end and isolation (the same load, one channel limited).
FIGURES = ["ingest", "pipeline", "end_to_end", "drain", "indexing", "reports", "scale"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m threadline_devstack.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--only", default=",".join(FIGURES), help=f"comma-separated figures ({', '.join(FIGURES)})")
    parser.add_argument("--quick", action="store_true", help="small workloads: checks the benchmarks run, no figures")
    parser.add_argument("--budget-minutes", type=float, default=14.0, help="the whole run's time limit")
    parser.add_argument("--out", default=str(infra.repo_root() / "bench" / "results"), help="results directory")
    args = parser.parse_args(argv)
    wanted = [f.strip() for f in args.only.split(",") if f.strip()]
    unknown = sorted(set(wanted) - set(FIGURES))
    if unknown:
        parser.error(f"unknown figures: {', '.join(unknown)} (choose from {', '.join(FIGURES)})")

    budget = Budget(args.budget_minutes * 60)
    started_at = dt.datetime.now(dt.UTC)
    meta_machine = machine()
    try:
        stack = infra.up()
    except infra.InfraError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    bootstrap, es_url = stack["kafka_bootstrap"], stack["elasticsearch_url"]

    runners: dict[str, Callable[[], Figure | list[Figure]]] = {
        "ingest": lambda: ingest.run(bootstrap, budget, args.quick),
        "pipeline": lambda: pipeline.run(bootstrap, budget, args.quick),
        "end_to_end": lambda: end_to_end.run(bootstrap, budget, args.quick),
        "drain": lambda: drain.run(bootstrap, budget, args.quick),
        "scale": lambda: scale.run(bootstrap, budget, args.quick),
        "indexing": lambda: indexing.run(bootstrap, es_url, budget, args.quick),
        "reports": lambda: reports.run(bootstrap, es_url, budget, args.quick),
    }
    figures: list[Figure] = []
    for name in (f for f in FIGURES if f in wanted):
        print(f"\n== {name} ({budget.remaining():.0f}s of the budget left)", flush=True)
        began = time.monotonic()
        try:
            made = runners[name]()
        except Exception as exc:  # one figure failing must not cost the others
            traceback.print_exc()
            made = Figure(name, name.replace("_", " "), status="failed", reason=f"{type(exc).__name__}: {exc}")
        these = made if isinstance(made, list) else [made]
        for figure in these:
            figure.seconds = (time.monotonic() - began) / len(these)
        figures.extend(these)
        print(table(these), flush=True)

    meta = {
        "started_at": format_time(started_at, timespec="seconds"),
        "finished_at": format_time(dt.datetime.now(dt.UTC), timespec="seconds"),
        "elapsed_seconds": round(budget.elapsed(), 1),
        "budget_seconds": budget.total_seconds,
        "quick": args.quick,
        "machine": meta_machine,
    }
    json_path, md_path = write_results(Path(args.out), figures, meta)
    print(f"\n{table(figures)}\n\nwritten: {json_path}, {md_path} ({budget.elapsed():.0f}s)")
    return 1 if any(f.status == "failed" for f in figures) else 0


if __name__ == "__main__":
    sys.exit(main())

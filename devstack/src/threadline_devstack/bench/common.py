"""What every figure shares: the time budget, statistics, results, topics under a bench prefix."""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from threadline_common.settings import KafkaSettings
from threadline_common.topics import delete_topics, ensure_topics
from threadline_devstack import infra
from threadline_devstack.waiting import wait_until


class BenchError(RuntimeError):
    """A figure could not be measured (a service did not start, effects never appeared)."""


@dataclass
class Budget:
    """The whole run's time limit; a figure that would not fit is reported as not measured."""

    total_seconds: float
    started: float = field(default_factory=time.monotonic)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def remaining(self) -> float:
        return self.total_seconds - self.elapsed()

    def fits(self, estimate_seconds: float) -> bool:
        return self.remaining() >= estimate_seconds


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty sample."""
    if not values:
        raise ValueError("percentile of an empty sample")
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


@dataclass
class Metric:
    name: str
    unit: str
    value: float | None
    baseline: float | None = None
    better: Literal["higher", "lower"] = "higher"
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """Threadline / baseline (throughput: below 1 is slower; latency and memory: above 1 is slower)."""
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": None if self.ratio is None else round(self.ratio, 3)}


@dataclass
class Figure:
    name: str
    title: str
    status: Literal["measured", "not measured", "failed"] = "measured"
    reason: str = ""
    baseline: str = ""
    # Where the time goes when Threadline is far from its baseline (from a profile), and what would close the gap.
    note: str = ""
    metrics: list[Metric] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, *metrics: Metric) -> None:
        self.metrics.extend(metrics)

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "status": self.status,
            "reason": self.reason,
            "baseline": self.baseline,
            "note": self.note,
            "metrics": [m.as_json() for m in self.metrics],
            "details": self.details,
            "seconds": round(self.seconds, 1),
        }


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "kafka": infra.KAFKA_VERSION,
        "elasticsearch": infra.ES_VERSION,
    }


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit in ("s", "ms") and value < 10:
        return f"{value:.3g} {unit}"
    if abs(value) >= 100:
        return f"{value:,.0f} {unit}"
    return f"{value:.3g} {unit}"


def table(figures: Sequence[Figure]) -> str:
    """The results as a Markdown table: figure, measure, Threadline, baseline, ratio."""
    lines = [
        "| figure | measure | Threadline | baseline | ratio |",
        "|---|---|---|---|---|",
    ]
    for fig in figures:
        if fig.status != "measured":
            lines.append(f"| {fig.title} | {fig.status}: {fig.reason} | - | - | - |")
            continue
        for m in fig.metrics:
            ratio = "-" if m.ratio is None else f"{m.ratio:.3g}"
            name = f"{m.name} ({m.note})" if m.note else m.name
            lines.append(f"| {fig.title} | {name} | {_fmt(m.value, m.unit)} | {_fmt(m.baseline, m.unit)} | {ratio} |")
    return "\n".join(lines)


def write_results(out_dir: Path, figures: Sequence[Figure], meta: dict[str, Any]) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    data = {**meta, "figures": {f.name: f.as_json() for f in figures}}
    json_path = out_dir / "latest.json"
    json_path.write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
    baselines = "\n".join(f"- **{f.title}**: {f.baseline}" for f in figures if f.baseline)
    notes = "\n".join(f"- **{f.title}**: {f.note}" for f in figures if f.note and f.status == "measured")
    md = (
        f"# Threadline benchmarks ({meta['finished_at']})\n\n"
        f"{meta['machine']['cpus']} CPUs, load average {meta['machine']['load_average_at_start']} at the start; "
        f"Kafka {meta['machine']['kafka']}, Elasticsearch {meta['machine']['elasticsearch']}; "
        f"{meta['elapsed_seconds']:.0f} s in total. Ratio = Threadline / baseline, both measured in this run.\n\n"
        f"{table(figures)}\n\nBaselines:\n\n{baselines}\n\nWhere the time goes:\n\n{notes}\n\n"
        "Everything else (rates, counts, settings, each round): latest.json.\n"
    )
    md_path = out_dir / "latest.md"
    md_path.write_text(md)
    return json_path, md_path


# --- Kafka under a bench prefix ------------------------------------------------------------------


def new_prefix(what: str) -> str:
    return f"bench-{what}-{uuid.uuid4().hex[:6]}."


@contextlib.contextmanager
def bench_topics(bootstrap: str, prefix: str) -> Iterator[list[str]]:
    """Every contract topic under `prefix`, deleted afterwards."""
    settings = KafkaSettings(bootstrap_servers=bootstrap, topic_prefix=prefix)
    names = ensure_topics(settings, wait_seconds=30).names
    try:
        yield names
    finally:
        delete_topics(settings, names)


def memory_mib(pid: int) -> dict[str, float]:
    """Resident memory now and at its peak (VmRSS, VmHWM) of one process, in MiB."""
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values["rss_mib" if key == "VmRSS" else "peak_rss_mib"] = round(int(rest.split()[0]) / 1024, 1)
    return values


def wait_for(what: str, check: Any, timeout: float, interval: float = 0.05) -> Any:
    try:
        return wait_until(what, check, timeout, interval)
    except AssertionError as exc:  # a figure that cannot finish is the bench's error, not a test's
        raise BenchError(f"{exc} (after {timeout:.0f}s)") from exc

"""Where the time goes, from the run itself: a sampling profile of a service and CPU seconds per process.

`python -m threadline_devstack.bench.profiler OUT.json MODULE [ARGS...]` runs MODULE as `python -m`
would, while a thread samples every thread's Python stack every 10 ms (wall clock) and rewrites
OUT.json every second with the counts so far. The bench reads the file at the start and at the end
of a measured window and subtracts, so a figure's note describes that window and nothing else (not
the start-up). Samples are of wall-clock time: a thread blocked in `select` or a socket read is
counted as waiting, not as running. cProfile was not used: it slows the event loop it measures
several-fold and sees only the main thread, and py-spy is not among the project's tools.

CPU seconds come from /proc: each process's utime + stime over the window, and the machine's busy
time, of which whatever is not ours is Kafka, Elasticsearch and the machine's other users.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import runpy
import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

INTERVAL = 0.01
DUMP_EVERY = 1.0
_TICK = os.sysconf("SC_CLK_TCK")


# --- the sampler, inside the profiled process ------------------------------------------------------


def _group(name: str) -> str:
    """Thread names without their numbers: the 16 `zendesk_3` threads are one group."""
    return re.sub(r"[-_ ]?\d+$", "", re.sub(r" \(.*\)$", "", name)) or name


def _package(filename: str) -> str:
    """The package a frame's code belongs to: `aiokafka`, `threadline_zendesk_sync`, stdlib `asyncio`."""
    path = filename.replace("\\", "/")
    for marker in ("/site-packages/", "/src/"):
        if marker in path:
            return path.split(marker, 1)[1].split("/", 1)[0].removesuffix(".py")
    parts = path.rsplit("/", 2)
    if len(parts) >= 2 and parts[-2] not in ("lib", "") and not parts[-2].startswith("python3"):
        return parts[-2]
    return parts[-1].removesuffix(".py")


def state_of(frame: FrameType) -> str:
    """What a thread is doing, from its innermost Python frame."""
    code = frame.f_code
    file, func = code.co_filename, code.co_name
    if file.endswith("selectors.py"):
        return "waiting: event loop idle"
    if file.endswith(("concurrent/futures/thread.py", "queue.py")) or (
        file.endswith("threading.py") and func in ("wait", "_wait_for_tstate_lock")
    ):
        return "waiting: for work"
    if file.endswith(("socket.py", "ssl.py")) and func in ("readinto", "recv_into", "read", "recv", "accept"):
        return "waiting: a server's answer (socket read)"
    if func == "sleep" or file.endswith("time.py"):
        return "waiting: sleep"
    return f"running: {_library(frame)}"


STDLIB_GLUE = ("asyncio", "selectors", "threading", "concurrent", "contextlib", "functools", "runpy")


def _library(frame: FrameType | None) -> str:
    """Whose code is running: the innermost frame's package, unless that is the standard library's
    event loop and threading glue, then the innermost package calling it; `asyncio (the loop
    itself)` when nothing but the loop is on the stack (its scheduling, callbacks in C)."""
    leaf = _package(frame.f_code.co_filename) if frame is not None else "unknown"
    if leaf not in STDLIB_GLUE:
        return leaf
    while frame is not None:
        if frame.f_code.co_name in ("_run_once", "run_forever") and frame.f_code.co_filename.endswith("base_events.py"):
            break  # below the loop's own frames is whoever started the loop, not whoever runs now
        package = _package(frame.f_code.co_filename)
        if package not in STDLIB_GLUE and not package.startswith("threadline_devstack"):
            return "faust/mode" if package in ("faust", "mode") else package
        frame = frame.f_back
    return "asyncio (the loop itself)"


def own_function(frame: FrameType | None) -> str | None:
    """The innermost Threadline function on the stack (module.function), if any."""
    while frame is not None:
        file = frame.f_code.co_filename
        if "/threadline_" in file and not file.endswith(("__main__.py", "bench/profiler.py")):
            module = file.rsplit("/threadline_", 1)[1].removesuffix(".py").replace("/", ".")
            return f"threadline_{module}.{frame.f_code.co_name}"
        frame = frame.f_back
    return None


@dataclass
class Sampler:
    out: Path
    interval: float = INTERVAL
    states: dict[str, Counter[str]] = field(default_factory=dict)
    own: dict[str, Counter[str]] = field(default_factory=dict)
    samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def sample(self) -> None:
        me = threading.get_ident()
        names = {t.ident: t.name for t in threading.enumerate()}
        for ident, frame in sys._current_frames().items():
            if ident == me:
                continue
            group = _group(names.get(ident, "unnamed"))
            state = state_of(frame)
            self.states.setdefault(group, Counter())[state] += 1
            if state.startswith("running"):
                own = own_function(frame)
                if own is not None:
                    self.own.setdefault(group, Counter())[own] += 1
        self.samples += 1

    def dump(self) -> None:
        data = {
            "pid": os.getpid(),
            "at": time.monotonic(),
            "interval": self.interval,
            "samples": self.samples,
            "states": {g: dict(c) for g, c in self.states.items()},
            "own": {g: dict(c) for g, c in self.own.items()},
        }
        tmp = self.out.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(self.out)

    def run(self) -> None:
        last = time.monotonic()
        # THREADLINE_PROFILE_WHILE=<path>: sample only while that file exists, so that a bench can
        # time rounds without the sampler's cost and profile another round.
        switch = os.environ.get("THREADLINE_PROFILE_WHILE")
        while not self._stop.wait(self.interval):
            if switch and not os.path.exists(switch):
                continue
            self.sample()
            if time.monotonic() - last >= DUMP_EVERY:
                self.dump()
                last = time.monotonic()

    def start(self) -> None:
        threading.Thread(target=self.run, name="bench-profiler", daemon=True).start()
        atexit.register(self.dump)


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit("usage: python -m threadline_devstack.bench.profiler OUT.json MODULE [ARGS...]")
    out, module, args = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
    Sampler(out).start()
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


# --- reading it, in the bench ------------------------------------------------------------------------


def profiled(argv: list[str], out: Path) -> list[str]:
    """`[python, -m, module, *args]` run under the sampler, writing to `out`."""
    if argv[1:2] != ["-m"]:
        raise ValueError(f"not a `python -m` command line: {argv}")
    return [argv[0], "-m", "threadline_devstack.bench.profiler", str(out), *argv[2:]]


def read_profile(path: Path) -> dict[str, Any]:
    with contextlib.suppress(FileNotFoundError, ValueError):
        data: dict[str, Any] = json.loads(path.read_text())
        return data
    return {"samples": 0, "states": {}, "own": {}}


def _minus(after: Mapping[str, Mapping[str, int]], before: Mapping[str, Mapping[str, int]]) -> dict[str, Counter[str]]:
    out: dict[str, Counter[str]] = {}
    for group, counts in after.items():
        c = Counter({k: v - before.get(group, {}).get(k, 0) for k, v in counts.items()})
        out[group] = Counter({k: v for k, v in c.items() if v > 0})
    return out


def window(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The samples taken between two reads of one profile file."""
    return {
        "samples": after.get("samples", 0) - before.get("samples", 0),
        "states": _minus(after.get("states", {}), before.get("states", {})),
        "own": _minus(after.get("own", {}), before.get("own", {})),
    }


def describe(service: str, profile: Mapping[str, Any], groups: tuple[str, ...] = ("MainThread", "zendesk")) -> str:
    """One sentence per thread group: its share of wall-clock samples by state, and the Threadline
    functions most often running."""
    parts = []
    for group in groups:
        states: Counter[str] = Counter(profile["states"].get(group, {}))
        total = sum(states.values())
        if not total:
            continue
        threads = max(1, round(total / max(1, profile["samples"])))
        label = "event loop" if group == "MainThread" else f"{group} threads ({threads})"
        waiting = [(s.split(": ", 1)[1], n) for s, n in states.most_common() if s.startswith("waiting")]
        running = [(s.split(": ", 1)[1], n) for s, n in states.most_common() if s.startswith("running")]
        busy = sum(n for _, n in running)
        shares = [f"{what} {100 * n / total:.0f}%" for what, n in waiting if 100 * n / total >= 1]
        if busy:
            top = ", ".join(f"{what} {100 * n / total:.0f}%" for what, n in running[:4] if 100 * n / total >= 1)
            shares.append(f"running {100 * busy / total:.0f}%" + (f" ({top})" if top else ""))
        own: Counter[str] = Counter(profile["own"].get(group, {}))
        mine = ", ".join(f"{f.split('.', 1)[1]} {100 * n / total:.0f}%" for f, n in own.most_common(3))
        where = f"; innermost Threadline code: {mine}" if mine else ""
        parts.append(f"{service} {label}: {', '.join(shares)}{where}")
    return "; ".join(parts)


@dataclass
class Cpu:
    """CPU seconds of named processes (and of the whole machine) since it was made."""

    pids: dict[str, int]
    began: float = field(default_factory=time.monotonic)
    start: dict[str, float] = field(default_factory=dict)
    machine_start: float = 0.0

    def __post_init__(self) -> None:
        self.start = {name: process_cpu(pid) for name, pid in self.pids.items()}
        self.machine_start = machine_busy()

    def seconds(self) -> dict[str, float]:
        used = {name: round(process_cpu(pid) - self.start[name], 2) for name, pid in self.pids.items()}
        wall = time.monotonic() - self.began
        busy = machine_busy() - self.machine_start
        used["other processes (other users of the machine)"] = round(max(0.0, busy - sum(used.values())), 2)
        used["wall"] = round(wall, 2)
        used["machine_capacity"] = round(wall * (os.cpu_count() or 1), 2)
        return used


def process_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime (fields 14 and 15 of stat)


def machine_busy() -> float:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return (sum(values[:8]) - idle) / _TICK


def describe_cpu(cpu: Mapping[str, float]) -> str:
    wall, capacity = cpu["wall"], cpu["machine_capacity"]
    used = {k: v for k, v in cpu.items() if k not in ("wall", "machine_capacity")}
    listed = ", ".join(f"{k} {v:.1f} s" for k, v in sorted(used.items(), key=lambda kv: -kv[1]))
    return f"CPU over the {wall:.0f} s window ({capacity:.0f} CPU-seconds on this machine): {listed}"


if __name__ == "__main__":
    main()

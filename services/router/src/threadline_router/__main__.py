"""`python -m threadline_router [faust worker options]`: run the router worker."""

from __future__ import annotations

import logging
import multiprocessing
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

from threadline_common.faust_worker import worker_loglevel
from threadline_common.logs import configure_logging
from threadline_common.settings import KafkaSettings, load_kafka_settings, load_settings
from threadline_router.app import create_app
from threadline_router.due_index import IndexedTable
from threadline_router.restore import restore_tables
from threadline_router.settings import RouterSettings

log = logging.getLogger("threadline_router")


def restore_all(app: Any, kafka: KafkaSettings, bad_rows: Any) -> None:
    """Run in the restore's child process; `bad_rows` (a shared integer) carries back how many
    undecodable rows the due-time index met, for the worker's metric."""
    began = time.monotonic()
    tables = [app.tables[name] for name in ("links", "follows", "homes")]
    for table, done in zip(tables, restore_tables(tables, kafka), strict=True):
        index = getattr(table, "due_index", None)
        if index is not None:
            bad_rows.value += index.bad_rows
        log.info(
            "table %s restored: %d changelog records in %.1fs (%d rows re-indexed)",
            done.table,
            done.rows,
            done.seconds,
            done.indexed,
        )
    usage = resource.getrusage(resource.RUSAGE_SELF)
    # CPU seconds: what the restore costs whatever else the machine runs; the peak: what the pod
    # needs beside the worker (which waits meanwhile at its own, smaller, size).
    log.info(
        "restore done: in %.2fs, %.1f CPU seconds, peak resident memory %.0f MiB",
        time.monotonic() - began,
        usage.ru_utime + usage.ru_stime,
        usage.ru_maxrss / 1024,
    )


def since_process_start() -> float | None:
    """Seconds since this process started (Linux /proc), so that a start's log says what the
    interpreter and the imports cost before any of our code ran; None where there is no /proc."""
    try:
        started = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return max(uptime - started / os.sysconf("SC_CLK_TCK"), 0.0)


def main() -> None:
    settings = load_settings(RouterSettings)
    configure_logging("router", settings.log_level, settings.log_format)
    kafka = load_kafka_settings()
    app = create_app(settings, kafka)
    elapsed = since_process_start()
    if elapsed is not None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        log.info(
            "app made %.2fs after the process started, %.2f CPU seconds (interpreter, imports, settings, channels)",
            elapsed,
            usage.ru_utime + usage.ru_stime,
        )
    argv = sys.argv[1:] or [
        "worker",
        "--without-web" if settings.web_port == 0 else "--web-port",
        str(settings.web_port),
    ]
    if argv[:1] == ["worker"] and "--loglevel" not in argv and "-l" not in argv:
        argv += ["--loglevel", worker_loglevel(settings.log_level)]
    if argv[:1] == ["worker"] and settings.store == "rocksdb://" and settings.restore_on_start:
        # In a child process: what the restore allocated goes back to the system with it, so the
        # worker's resident memory does not grow with the table. Forked before faust starts any
        # thread or client.
        fork = multiprocessing.get_context("fork")
        bad_rows = fork.Value("q", 0)
        child = fork.Process(target=restore_all, args=(app, kafka, bad_rows), name="restore")
        child.start()
        child.join()
        if child.exitcode != 0:
            raise SystemExit(f"the tables' restore from their changelogs failed (exit {child.exitcode}); see above")
        links = app.tables["links"]
        if bad_rows.value and isinstance(links, IndexedTable) and links.due_index is not None:
            links.due_index.count_bad_rows(bad_rows.value)
    sys.argv = [sys.argv[0], *argv]  # faust's CLI reads sys.argv
    app.main()


if __name__ == "__main__":
    main()

"""`make up` restarts a service that exits, as a kubelet would: with back-off, saying so in the
service's log; `make down` (a signal to the process group) stops the watchdog and the service."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from threadline_devstack.processes import ManagedProcess
from threadline_devstack.services import supervised
from threadline_devstack.supervise import next_backoff
from threadline_devstack.waiting import wait_until

# Exits with status 3 on its first two starts (a crash), then runs until it is signalled.
SERVICE = """
import os, signal, sys
from pathlib import Path
starts = Path(sys.argv[1])
with starts.open("a") as f:
    f.write(f"{os.getpid()}\\n")
if len(starts.read_text().split()) <= 2:
    sys.exit(3)
signal.pause()
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return stat[0] != "Z"


@pytest.mark.unit
def test_a_crashed_service_is_restarted_with_back_off_and_stopped_with_its_watchdog(tmp_path: Path):
    script, starts = tmp_path / "service.py", tmp_path / "starts"
    script.write_text(SERVICE)
    process = supervised(
        ManagedProcess(name="flaky", argv=[sys.executable, str(script), str(starts)], run_dir=tmp_path),
        backoff=0.05,
        max_backoff=0.2,
    ).start()
    try:
        pids = wait_until(
            "the third start",
            lambda: (s := starts.read_text().split() if starts.exists() else []) and len(s) == 3 and s,
        )
        log = process.log_path.read_text()
        assert "flaky exited with status 3; restart #1 in 0.05s (back-off)" in log
        assert "flaky exited with status 3; restart #2 in 0.1s (back-off)" in log
        assert process.alive() and alive(int(pids[-1]))
    finally:
        process.stop(timeout=10)  # what `make down` does: SIGTERM to the group
    wait_until("the service gone with its watchdog", lambda: not alive(int(pids[-1])), timeout=10)
    assert not process.alive()
    assert len(starts.read_text().split()) == 3  # stopping is no crash: not started again


@pytest.mark.unit
def test_back_off_doubles_up_to_its_cap_and_resets_after_a_stable_run():
    kw = {"initial": 1.0, "maximum": 60.0, "stable": 60.0}
    pauses, current = [], 0.0
    for _ in range(8):
        current = next_backoff(current, 0.5, **kw)
        pauses.append(current)
    assert pauses == [1, 2, 4, 8, 16, 32, 60, 60]
    assert next_backoff(60.0, 600.0, **kw) == 1.0

"""Background processes of the local stack: started detached, logged to a file, stopped by pid.

A pid file records what was started, so `make down` stops exactly that and nothing else, even
from another shell; a stale pid file (process gone, or the pid reused by an unrelated
program) is recognised by the command line recorded beside it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


class RunningService(Protocol):
    """What waiting on a service needs: a process here, or a container (containers.py)."""

    @property
    def name(self) -> str: ...

    def alive(self) -> bool: ...

    def log_tail(self, lines: int = 40) -> str: ...


@dataclass
class ManagedProcess:
    name: str
    argv: list[str]
    run_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    user: str | None = None  # run as this user (Elasticsearch refuses root)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.run_dir / "logs" / f"{self.name}.log"

    @property
    def pid_path(self) -> Path:
        return self.run_dir / "pids" / f"{self.name}.json"

    def start(self) -> ManagedProcess:
        if self.running_pid() is not None:
            return self
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.pid_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        # A new session: the process outlives `make`, and stopping it stops its children.
        self.proc = subprocess.Popen(  # noqa: S603 - argv built by the stack, not from input
            self.argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **self.env},
            cwd=self.cwd,
            start_new_session=True,
            user=self.user,
            group=_group_of(self.user),
        )
        log.close()
        self.pid_path.write_text(json.dumps({"pid": self.proc.pid, "started": _start_time(self.proc.pid)}))
        return self

    def running_pid(self) -> int | None:
        if self.proc is not None:
            return self.proc.pid if self.proc.poll() is None else None
        try:
            record = json.loads(self.pid_path.read_text())
            pid = int(record["pid"])
        except (FileNotFoundError, ValueError, KeyError):
            return None
        # Same pid and same start time: the process we started (it may have exec'd since).
        if _start_time(pid) != record.get("started"):
            return None
        return pid

    def alive(self) -> bool:
        return self.running_pid() is not None

    def kill(self) -> None:
        """SIGKILL the whole process group: a crash, for fault drills."""
        pid = self.running_pid()
        if pid is not None:
            _signal_group(pid, signal.SIGKILL)
            self._reap(5)

    def stop(self, timeout: float = 15.0) -> None:
        pid = self.running_pid()
        if pid is not None:
            _signal_group(pid, signal.SIGTERM)
            if not self._wait_gone(pid, timeout):
                _signal_group(pid, signal.SIGKILL)
                self._wait_gone(pid, 5)
        self._reap(1)
        self.pid_path.unlink(missing_ok=True)

    def _wait_gone(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                return True
            if self.proc is None:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, os.WNOHANG)  # reap it if it is our child
                if _start_time(pid) is None:  # gone, or a zombie: finished either way
                    return True
            time.sleep(0.1)
        return False

    def _reap(self, timeout: float) -> None:
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


def _start_time(pid: int) -> int | None:
    """Start time of a process in clock ticks since boot, or None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] == "Z":  # a zombie has finished
        return None
    return int(fields[19])


def _group_of(user: str | None) -> int | None:
    if user is None:
        return None
    import pwd

    return pwd.getpwnam(user).pw_gid


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError:
        os.kill(pid, sig)

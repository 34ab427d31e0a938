"""`python -m threadline_devstack.supervise --name NAME [--backoff S] [--max-backoff S] -- ARGV...`:
run ARGV as a child and start it again whenever it exits, as a kubelet restarts a container
(restartPolicy Always, CrashLoopBackOff): after `--backoff` seconds, doubling up to `--max-backoff`,
back to the start once a run lasted `--stable` seconds. Each restart is said in the log (the child
shares this process's stdout and stderr, i.e. `.run/logs/<name>.log`).

`make up` starts each Threadline service through it. SIGTERM or SIGINT stops it: it passes the
signal on, waits for the child and exits with the child's status, without restarting it. The child
stays in this process's group, so `make down` (which signals the group) stops both either way.
(A dozen lines of our own rather than supervisord or honcho: a process manager that daemonises or
owns the log files would not fit the pid files `make down` relies on.)
"""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import subprocess
import sys
import threading
import time
from types import FrameType

from threadline_common.times import format_time


def next_backoff(current: float, ran_for: float, *, initial: float, maximum: float, stable: float) -> float:
    """The pause before the next start: `initial` after a run of `stable` seconds or more, else the
    last pause doubled, at most `maximum`. `current` is 0 before the first restart."""
    if current <= 0 or ran_for >= stable:
        return initial
    return min(maximum, current * 2)


def say(name: str, message: str) -> None:
    stamp = format_time(dt.datetime.now(dt.UTC), timespec="seconds")
    print(f"{stamp} supervise[{name}]: {message}", file=sys.stderr, flush=True)


def run(name: str, argv: list[str], *, initial: float, maximum: float, stable: float) -> int:
    stopping = threading.Event()
    child: subprocess.Popen[bytes] | None = None

    def stop(signum: int, _frame: FrameType | None) -> None:
        stopping.set()
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    backoff, restarts = 0.0, 0
    while True:
        started = time.monotonic()
        child = subprocess.Popen(argv)  # noqa: S603 - argv given by the stack
        status = child.wait()
        if stopping.is_set():
            return status
        backoff = next_backoff(backoff, time.monotonic() - started, initial=initial, maximum=maximum, stable=stable)
        restarts += 1
        how = f"exited with status {status}" if status >= 0 else f"was killed by signal {-status}"
        say(name, f"{name} {how}; restart #{restarts} in {backoff:g}s (back-off)")
        if stopping.wait(backoff):
            return status
        say(name, f"restarting {name} (restart #{restarts})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m threadline_devstack.supervise")
    parser.add_argument("--name", required=True)
    parser.add_argument("--backoff", type=float, default=1.0, help="first pause before a restart, seconds")
    parser.add_argument("--max-backoff", type=float, default=60.0)
    parser.add_argument("--stable", type=float, default=60.0, help="a run this long resets the back-off")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- ARGV of the service")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the service's command after --")
    return run(args.name, command, initial=args.backoff, maximum=args.max_backoff, stable=args.stable)


if __name__ == "__main__":
    sys.exit(main())

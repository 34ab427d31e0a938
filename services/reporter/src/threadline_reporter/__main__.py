"""`python -m threadline_reporter`: index the activity stream, post the scheduled reports, serve
/healthz /readyz /metrics /reports.

`python -m threadline_reporter report daily --date 2026-11-20 [--channel C0SUPPORT] [--json]`
posts (once) or prints one report now; a weekly report's --date is the first of its seven days.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import signal
import sys
from typing import Any, cast
from zoneinfo import ZoneInfo

import uvicorn

from threadline_common.channels import ChannelConfigError
from threadline_common.logs import configure_logging
from threadline_common.settings import load_kafka_settings, load_settings
from threadline_reporter.indices import ensure_indices
from threadline_reporter.posting import Reporter, UnknownChannel
from threadline_reporter.reports import Kind
from threadline_reporter.service import Service, build_reporter
from threadline_reporter.settings import ReporterSettings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m threadline_reporter")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="index and post scheduled reports (the default)")
    report = sub.add_parser("report", help="post or print one report now")
    report.add_argument("kind", choices=["daily", "weekly"])
    report.add_argument(
        "--date",
        type=dt.date.fromisoformat,
        help="the day (daily) or first day of the week (weekly); default: yesterday / seven days ago",
    )
    report.add_argument("--channel", action="append", help="a monitored channel id (default: all of them)")
    report.add_argument("--json", action="store_true", help="print the report as JSON instead of posting it")
    return parser


def _report(reporter: Reporter, args: argparse.Namespace) -> int:
    ensure_indices(reporter.es, reporter.names)
    channels = args.channel or sorted(reporter.channels.channels)
    if not channels:
        print("error: no monitored channels (set THREADLINE_REPORTER_CHANNELS_FILE)", file=sys.stderr)
        return 2
    kind = cast(Kind, args.kind)
    results: list[dict[str, Any]] = []
    for channel in channels:
        try:
            rules = reporter.rules(channel)
        except UnknownChannel as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        today = dt.datetime.now(ZoneInfo(rules.timezone)).date()
        start = args.date or today - dt.timedelta(days=1 if kind == "daily" else 7)
        if args.json:
            results.append(reporter.build(kind, channel, start).to_json())
        else:
            posted = reporter.post(kind, channel, start)
            results.append({"channel": channel, "name": rules.name, "period": start.isoformat(), **vars(posted)})
    print(json.dumps(results, indent=2, default=str))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = load_settings(ReporterSettings)
    configure_logging("reporter", settings.log_level, settings.log_format)
    try:
        if args.command == "report":
            return _report(build_reporter(settings), args)
        service = Service(settings, load_kafka_settings())
    except ChannelConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    from threadline_reporter.app import create_app

    service.start()
    server = uvicorn.Server(
        uvicorn.Config(create_app(service), host=settings.web_host, port=settings.web_port, log_config=None)
    )
    signal.signal(signal.SIGTERM, lambda *_: setattr(server, "should_exit", True))
    try:
        server.run()
    finally:
        service.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

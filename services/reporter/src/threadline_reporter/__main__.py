"""`python -m threadline_reporter`: index the activity stream, post the scheduled reports, serve
/healthz /readyz /metrics /reports.

`python -m threadline_reporter report daily --date 2026-11-20 [--channel C0SUPPORT] [--json]`
posts (once) or prints one report now; a weekly report's --date is the first of its seven days.

`python -m threadline_reporter kibana import [--url URL] [--api-key KEY | --user NAME[:PASSWORD]]`
imports the data views and the dashboard into Kibana (THREADLINE_REPORTER_KIBANA_* variables
give the same); `kibana export` prints them as ndjson.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

from threadline_common.heap import settle_heap
from threadline_common.logs import configure_logging
from threadline_common.settings import load_settings
from threadline_reporter import kibana
from threadline_reporter.kibana.objects import DEFAULT_PREFIX, for_prefix, saved_objects, to_ndjson
from threadline_reporter.settings import KibanaSettings, ReporterSettings, unknown_variables

if TYPE_CHECKING:
    from threadline_reporter.posting import Reporter

log = logging.getLogger("threadline_reporter")


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
    kibana = sub.add_parser("kibana", help="Kibana's data views and dashboard")
    kibana_sub = kibana.add_subparsers(dest="kibana_command", required=True)
    imports = kibana_sub.add_parser("import", help="import them into a Kibana (overwriting earlier imports)")
    imports.add_argument("--url", help="Kibana's base URL (else THREADLINE_REPORTER_KIBANA_URL)")
    imports.add_argument("--api-key", help="an API key, base64 id:key (else THREADLINE_REPORTER_KIBANA_API_KEY)")
    imports.add_argument("--user", help="NAME or NAME:PASSWORD (else THREADLINE_REPORTER_KIBANA_USERNAME/_PASSWORD)")
    imports.add_argument("--space", help="a Kibana space id (default: the default space)")
    imports.add_argument("--ca-certs", type=Path, help="CA bundle of Kibana's certificate")
    imports.add_argument("--index-prefix", help="the reporter's index prefix (else THREADLINE_REPORTER_INDEX_PREFIX)")
    imports.add_argument("--wait", type=float, help="seconds to keep trying while Kibana is not up (default 120)")
    imports.add_argument("--file", type=Path, help="another saved objects file (default: the bundled one)")
    export = kibana_sub.add_parser("export", help="print the saved objects as ndjson")
    export.add_argument("--index-prefix", default=DEFAULT_PREFIX)
    return parser


def _kibana(args: argparse.Namespace) -> int:
    if args.kibana_command == "export":
        sys.stdout.write(to_ndjson(for_prefix(saved_objects(), args.index_prefix)))
        return 0
    given: dict[str, Any] = {
        "kibana_url": args.url,
        "kibana_api_key": args.api_key,
        "kibana_space": args.space,
        "kibana_ca_certs": args.ca_certs,
        "index_prefix": args.index_prefix,
        "kibana_wait_seconds": args.wait,
    }
    if args.user:
        name, _, password = args.user.partition(":")
        given["kibana_username"] = name
        if password:
            given["kibana_password"] = password
    if not (args.url or os.environ.get("THREADLINE_REPORTER_KIBANA_URL")):
        print("error: give --url or set THREADLINE_REPORTER_KIBANA_URL (Kibana's base URL)", file=sys.stderr)
        return 2
    settings = load_settings(KibanaSettings, **{k: v for k, v in given.items() if v is not None})
    configure_logging("reporter", settings.log_level, settings.log_format)
    try:
        imported = kibana.import_saved_objects(settings, kibana.load_objects(args.file))
    except kibana.KibanaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"imported {imported.count} saved objects into {settings.kibana_url}")
    for kind, object_id in imported.objects:
        print(f"  {kind} {object_id}")
    return 0


def _report(reporter: Reporter, args: argparse.Namespace) -> int:
    from threadline_reporter.indices import ensure_indices
    from threadline_reporter.posting import UnknownChannel
    from threadline_reporter.reports import Kind

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
    if args.command == "kibana":
        return _kibana(args)  # needs neither Kafka nor Elasticsearch, nor their clients
    import uvicorn

    from threadline_common.channels import ChannelConfigError
    from threadline_common.settings import load_kafka_settings
    from threadline_reporter.service import Service, build_reporter

    # The report command serves no HTTP: it needs no API token.
    settings = load_settings(ReporterSettings, **({"api_enabled": False} if args.command == "report" else {}))
    configure_logging("reporter", settings.log_level, settings.log_format)
    unknown = unknown_variables(os.environ)
    if unknown:
        log.warning("ignoring variables no setting reads (a typo?): %s", ", ".join(unknown))
    try:
        if args.command == "report":
            kafka = load_kafka_settings() if settings.slack_installations_key is not None else None
            return _report(build_reporter(settings, kafka), args)
        service = Service(settings, load_kafka_settings())
    except ChannelConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    from threadline_reporter.app import create_app

    app = create_app(service)
    # A batch keeps thousands of records, documents and actions alive at once, and the fold state
    # up to folds.MAX_EVENTS events: with CPython's defaults, full collections walking them took
    # a third of the reporter's time in the indexing bench (1.3 s of them in a 15 s run; ~0.02 s once settled).
    settle_heap(young=50_000)
    service.start()
    server = uvicorn.Server(uvicorn.Config(app, host=settings.web_host, port=settings.web_port, log_config=None))
    signal.signal(signal.SIGTERM, lambda *_: setattr(server, "should_exit", True))
    try:
        server.run()
    finally:
        service.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

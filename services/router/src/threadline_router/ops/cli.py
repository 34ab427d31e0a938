"""`threadline-ops`: the operators' command line (see README, "Operations").

Every change goes through the services' own paths: dead letters go back to the topic they came
from, and backfill, relink and unlink are records on threadline.router.inbound that the router
applies with its rules, so the links table is only ever written by the router.

Exit codes: 0 done, 1 something outside the command line is wrong (Kafka, Slack, Zendesk, a
conversation that does not exist), 2 a wrong argument or setting (a one-line message naming it).

This module is the parser and the entry point; each command lives in its own module (replay,
show, relink for relink and unlink, backfill), and env holds what they share.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from threadline_common.contracts import ContractError, load_topics
from threadline_router.ops import parse
from threadline_router.ops.backfill import run_backfill
from threadline_router.ops.doctor import run_doctor
from threadline_router.ops.env import Env, UsageError
from threadline_router.ops.kafka_io import OpsError
from threadline_router.ops.relink import run_relink, run_unlink
from threadline_router.ops.replay import run_replay
from threadline_router.ops.setup_zendesk import run_setup_zendesk
from threadline_router.ops.show import run_show
from threadline_router.ops.slack_manifest import run_slack_manifest


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line naming the argument, no usage block: scripts and people read the same thing.
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _typed(parse_fn: Callable[[str], Any]) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            return parse_fn(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = parse_fn.__name__.removeprefix("parse_").replace("_", " ")
    return convert


def _channel_id(text: str) -> str:
    if not parse._CHANNEL.match(text):
        raise ValueError(f"not a Slack channel id: {text!r} (e.g. C0SUPPORT)")
    return text


def _dlq_topic(text: str) -> str:
    """A contract topic that has a dead-letter topic, by its canonical name."""
    name = text.strip()
    prefix = os.environ.get("KAFKA_TOPIC_PREFIX", "")
    if prefix and name.startswith(prefix):
        name = name[len(prefix) :]
    try:
        known = {t.name for t in load_topics()}
    except ContractError as exc:
        raise ValueError(str(exc)) from None
    if name.endswith(".dlq") and name in known:
        raise ValueError(f"name the source topic, not its dead-letter topic: {name.removesuffix('.dlq')!r}")
    with_dlq = sorted(n for n in known if f"{n}.dlq" in known)
    if name not in with_dlq:
        raise ValueError(f"{text!r} has no dead-letter topic; one of: {', '.join(with_dlq)}")
    return name


def build_parser() -> Parser:
    parser = Parser(prog="threadline-ops", description="Operate Threadline: dead letters, backfill, links.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command", parser_class=Parser)

    dlq = commands.add_parser("dlq", help="dead-letter topics")
    dlq_commands = dlq.add_subparsers(dest="dlq_command", required=True, metavar="command", parser_class=Parser)
    replay = dlq_commands.add_parser(
        "replay", help="send dead letters of <topic>.dlq back to <topic> (after fixing their cause)"
    )
    replay.add_argument("topic", type=_typed(_dlq_topic), help="the source topic, e.g. threadline.commands")
    replay.add_argument(
        "--since",
        type=_typed(parse.parse_position),
        help="first offset (in each partition; dead-letter topics have one), or a time (ISO 8601)",
    )
    replay.add_argument(
        "--until",
        type=_typed(lambda s: parse.parse_position(s, end_of_day=True)),
        help="last offset, or a time (ISO 8601; a bare date means its end)",
    )
    replay.add_argument("--dry-run", action="store_true", help="list what would be replayed, send nothing")
    replay.set_defaults(run=run_replay)

    show = commands.add_parser("show", help="a conversation's state from the links table")
    show.add_argument(
        "target", type=_typed(parse.parse_target), help="conversation id, Slack thread link, or ticket id"
    )
    show.add_argument("--json", action="store_true", help="the stored record(s) as JSON")
    show.set_defaults(run=run_show)

    relink = commands.add_parser("relink", help="link a Slack thread to an existing ticket")
    relink.add_argument("link", type=_typed(parse.parse_thread_link), help="the Slack thread's link")
    relink.add_argument("ticket", type=_typed(parse.parse_ticket_id), help="the Zendesk ticket id")
    relink.add_argument("--by", default=None, help="who asks for it (shown in the thread; default: $USER)")
    relink.set_defaults(run=run_relink)

    unlink = commands.add_parser("unlink", help="unlink a Slack thread from its ticket")
    unlink.add_argument(
        "target",
        type=_typed(lambda s: parse.parse_target(s, allow_ticket=False)),
        help="the Slack thread's link, or the conversation id",
    )
    unlink.add_argument("--by", default=None, help="who asks for it (shown in the thread; default: $USER)")
    unlink.set_defaults(run=run_unlink)

    backfill = commands.add_parser(
        "backfill", help="create the missing tickets, with their history, for past Slack threads"
    )
    backfill.add_argument("link", nargs="?", type=_typed(parse.parse_thread_link), help="one Slack thread's link")
    backfill.add_argument("--channel", type=_typed(_channel_id), help="a channel, with --since: its past threads")
    backfill.add_argument("--since", type=_typed(parse.parse_time), help="with --channel: from this date/time")
    backfill.add_argument(
        "--until",
        type=_typed(lambda s: parse.parse_time(s, end_of_day=True)),
        help="with --channel: up to this date/time (a bare date means its end; default: now)",
    )
    backfill.set_defaults(run=run_backfill)

    manifest = commands.add_parser(
        "slack-manifest", help="the Slack app configuration (scopes, events, URLs) as an app manifest"
    )
    manifest.add_argument("--url", help="ingest's public address, e.g. https://threadline.acme.example")
    manifest.add_argument(
        "--command", dest="slash_command", default="/support", help="the slash command's name (default /support)"
    )
    manifest.add_argument("--name", default="Threadline", help="the app's and bot's name")
    manifest.add_argument("--socket-mode", action="store_true", help="Socket Mode: no request URLs")
    manifest.add_argument(
        "--oauth",
        action="store_true",
        help="several workspaces: ingest's /slack/oauth_redirect as the Redirect URL (with --url), org-wide install",
    )
    manifest.set_defaults(run=run_slack_manifest)

    setup_zendesk = commands.add_parser(
        "setup-zendesk",
        help="create or update Zendesk's webhook to ingest, and print its signing secret",
        description="Create (or bring back to what Threadline needs) the Zendesk webhook that sends ticket "
        "events to ingest; the signing secret goes to stdout or --secret-file, what was done to stderr.",
    )
    setup_zendesk.add_argument(
        "--url", required=True, help="ingest's public address, e.g. https://threadline.acme.example"
    )
    setup_zendesk.add_argument("--name", default="Threadline", help="the webhook's name when it is created")
    setup_zendesk.add_argument(
        "--secret-file", type=Path, help="write the signing secret to this file (mode 600) instead of stdout"
    )
    setup_zendesk.add_argument(
        "--rotate-secret", action="store_true", help="reset the webhook's signing secret and print the new one"
    )
    setup_zendesk.set_defaults(run=run_setup_zendesk)

    doctor = commands.add_parser(
        "doctor", help="check the deployment's Kafka topics, Slack token and scopes, Zendesk and channel file"
    )
    doctor.add_argument("--url", help="ingest's public address: also check Zendesk's webhook to it")
    doctor.set_defaults(run=run_doctor)
    return parser


# --- entry point ----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=err, format="%(levelname)s %(name)s: %(message)s")
    env = Env(out=out, err=err)
    try:
        code: int = args.run(args, env)
        return code
    except UsageError as exc:
        print(f"threadline-ops {args.command}: error: {exc}", file=err)
        return 2
    except OpsError as exc:
        print(f"threadline-ops {args.command}: {exc}", file=err)
        return 1
    except KeyboardInterrupt:
        print("threadline-ops: interrupted", file=err)
        return 130


def run() -> None:
    sys.exit(main())

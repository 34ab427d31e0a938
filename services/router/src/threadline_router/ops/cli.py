"""`threadline-ops`: the operators' command line (see README, "Operations").

Every change goes through the services' own paths: dead letters go back to the topic they came
from, and backfill, relink and unlink are records on threadline.router.inbound that the router
applies with its rules, so the links table is only ever written by the router.

Exit codes: 0 done, 1 something outside the command line is wrong (Kafka, Slack, Zendesk, a
conversation that does not exist), 2 a wrong argument or setting (a one-line message naming it).
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn, TextIO

from threadline_common.channels import ChannelsConfig, load_channels
from threadline_common.contracts import ContractError, Topics, load_topics
from threadline_common.dlq import HEADER_PREFIX, dlq_reason
from threadline_common.settings import KafkaSettings, load_kafka_settings, load_settings
from threadline_common.slack_messages import is_conversation
from threadline_common.times import now_iso
from threadline_router.inbound import (
    OPS_SOURCE,
    OperatorAction,
    action_record,
    backfill_record,
    conversation_key,
)
from threadline_router.ops import parse
from threadline_router.ops.kafka_io import KafkaIO, OpsError, Record, json_object
from threadline_router.ops.progress import Progress
from threadline_router.ops.saas import Slack, Zendesk
from threadline_router.ops.settings import OpsSettings

SOURCE_HEADER = "threadline-source"  # the router's header naming where an inbound record came from
REPLAY_HEADER = "threadline-replayed-from"


class UsageError(Exception):
    """A wrong argument found after parsing (exit code 2); `argument` names it."""

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(f"argument {argument}: {message}")


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
    return parser


@dataclass
class Env:
    """What a subcommand works with; built lazily so that each asks only for what it uses."""

    out: TextIO
    err: TextIO
    _kafka: KafkaSettings | None = None
    _ops: OpsSettings | None = None
    _io: KafkaIO | None = None

    @property
    def kafka(self) -> KafkaSettings:
        if self._kafka is None:
            self._kafka = load_kafka_settings()
        return self._kafka

    @property
    def ops(self) -> OpsSettings:
        if self._ops is None:
            self._ops = load_settings(OpsSettings)
        return self._ops

    @property
    def topics(self) -> Topics:
        return Topics(self.kafka.topic_prefix)

    @property
    def io(self) -> KafkaIO:
        if self._io is None:
            self._io = KafkaIO(self.kafka, self.ops.kafka_timeout_seconds)
        return self._io

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)


# --- dlq replay ---------------------------------------------------------------------------------


def _bounds(io: KafkaIO, topic: str, since: int | datetime | None) -> dict[int, int]:
    if since is None:
        return {}
    if isinstance(since, int):
        return dict.fromkeys(io.partitions(topic), since)
    return io.offsets_at(topic, since)


def _header_list(raw: Any) -> list[tuple[str, bytes | str | None]]:
    return list(raw or [])


def run_replay(args: argparse.Namespace, env: Env) -> int:
    since, until = args.since, args.until
    if isinstance(since, int) and isinstance(until, int) and until < since:
        raise UsageError("--until", f"offset {until} is before --since {since}")
    if isinstance(since, datetime) and isinstance(until, datetime) and until < since:
        raise UsageError("--until", f"{until.isoformat()} is before --since {since.isoformat()}")
    source = env.topics.name(args.topic)
    dlq = env.topics.dlq(args.topic)
    io = env.io
    source_partitions = len(io.partitions(source))
    counts = {"replayed": 0, "other source": 0, "after --until": 0}
    batch: list[Record] = []
    next_offsets: dict[int, int] = {}
    for message in io.read(dlq, _bounds(io, dlq, since)):
        partition, offset = message.partition(), message.offset()
        if partition is None or offset is None:  # only produced, never consumed, messages lack them
            continue
        next_offsets[partition] = offset + 1
        if isinstance(until, int) and offset > until:
            counts["after --until"] += 1
            continue
        if isinstance(until, datetime) and message.timestamp()[1] > until.timestamp() * 1000:
            counts["after --until"] += 1
            continue
        headers = _header_list(message.headers())
        why = dlq_reason(headers)
        if why.get("source-topic") != source:
            counts["other source"] += 1
            continue
        original: list[tuple[str, str | bytes | None]] = [
            (k, v if isinstance(v, bytes) else (v or "").encode()) for k, v in headers
        ]
        original = [(k, v) for k, v in original if not k.startswith(HEADER_PREFIX) and k != REPLAY_HEADER]
        original.append((REPLAY_HEADER, f"{dlq}:{partition}:{offset}".encode()))
        # The partition it had keeps it in order with the rest of its conversation.
        home = why.get("source-partition", "")
        target = int(home) if home.isdigit() and int(home) < source_partitions else None
        batch.append((message.key(), message.value(), original, target))
        counts["replayed"] += 1
        if args.dry_run:
            key = (message.key() or b"").decode(errors="replace")
            env.say(f"would replay {dlq}[{partition}]@{offset} key={key} ({why.get('reason', 'no reason given')})")
    if batch and not args.dry_run:
        io.send(source, batch)
    skipped = ", ".join(f"{n} {what}" for what, n in counts.items() if what != "replayed" and n)
    verb = "would replay" if args.dry_run else "replayed"
    env.say(
        f"{verb} {counts['replayed']} dead letters from {dlq} to {source}"
        + (f" (skipped {skipped})" if skipped else "")
    )
    if len(next_offsets) == 1:
        env.say(f"next time, to skip these: --since {next(iter(next_offsets.values()))}")
    elif next_offsets:  # --since takes one offset for every partition: name them, the operator picks
        env.say("next offsets: " + ", ".join(f"partition {p}: {o}" for p, o in sorted(next_offsets.items())))
    return 0


# --- show ---------------------------------------------------------------------------------------


def _find(env: Env, target: parse.Target) -> list[dict[str, Any]]:
    table = env.io.read_table(env.topics.links)
    return sorted((c for c in table.values() if parse.matches(c, target)), key=lambda c: str(c.get("conversation_id")))


def _named(target: parse.Target) -> str:
    if target.kind == "ticket":
        return f"ticket #{target.ticket_id}"
    if target.kind == "thread":
        assert target.thread is not None
        return f"thread {target.thread.channel_id} {target.thread.root_ts}"
    return f"conversation {target.conversation_id}"


def run_show(args: argparse.Namespace, env: Env) -> int:
    found = _find(env, args.target)
    if not found:
        raise OpsError(f"no conversation for {_named(args.target)} in {env.topics.links}")
    if args.json:
        env.say(json.dumps(found[0] if len(found) == 1 else found, indent=2, sort_keys=True))
    else:
        env.say("\n\n".join(parse.describe(c) for c in found))
    return 0


# --- relink / unlink ----------------------------------------------------------------------------


def _operator(given: str | None) -> str:
    if given:
        return given
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "an operator"


def _external_id(conversation: dict[str, Any]) -> str:
    generation = int(conversation.get("generation") or 1)
    cid = str(conversation["conversation_id"])
    return cid if generation == 1 else f"{cid}#{generation}"


def _only(found: list[dict[str, Any]], argument: str, target: parse.Target) -> dict[str, Any] | None:
    if len(found) > 1:
        ids = ", ".join(str(c["conversation_id"]) for c in found)
        raise UsageError(argument, f"{_named(target)} is {len(found)} conversations ({ids}): name one by its id")
    return found[0] if found else None


def _send_action(env: Env, action: OperatorAction, applied: Callable[[bytes | None], bool]) -> int:
    io, links = env.io, env.topics.links
    starts = io.end_offsets(links)
    key = action.conversation_id.encode()
    io.send(env.topics.router_inbound, [(key, action_record(action), [(SOURCE_HEADER, OPS_SOURCE.encode())], None)])
    wait = env.ops.wait_seconds
    if wait <= 0:
        env.say(f"sent {action.kind} {action.action_id} to the router")
        return 0
    seen = io.wait_for(links, starts, lambda m: m.key() == key and applied(m.value()), wait)
    if seen is None:
        env.say(f"sent {action.kind} {action.action_id}; the router has not applied it within {wait:.0f} s")
        env.say("(is the router running? it applies the record when it is)")
        return 1
    env.say(f"the router applied {action.kind} (links offset {seen.partition()}:{seen.offset()})")
    return 0


def _relinked(ticket_id: int) -> Callable[[bytes | None], bool]:
    def check(value: bytes | None) -> bool:
        row = json_object(value)
        return row is not None and row.get("ticket_id") == ticket_id

    return check


def run_relink(args: argparse.Namespace, env: Env) -> int:
    ref: parse.ThreadRef = args.link
    ticket_id: int = args.ticket
    target = parse.Target("thread", thread=ref)
    table = env.io.read_table(env.topics.links)
    conversation = _only([c for c in table.values() if parse.matches(c, target)], "link", target)
    zendesk = Zendesk(env.ops)
    ticket = zendesk.ticket(ticket_id)
    if ticket is None:
        raise UsageError("ticket", f"Zendesk has no ticket #{ticket_id}")
    holder = next(
        (
            c
            for c in table.values()
            if c.get("ticket_id") == ticket_id and c is not conversation and not c.get("moved_to")
        ),
        None,
    )
    if holder is not None:
        raise UsageError(
            "ticket", f"#{ticket_id} is linked to {holder['conversation_id']}; unlink that conversation first"
        )
    requester = None
    if conversation is None:
        slack = Slack(env.ops)
        _check_channel(env, ref.channel_id, "link")
        messages = slack.thread(ref.channel_id, ref.root_ts)
        root = next((m for m in messages if m["ts"] == ref.root_ts), None)
        if root is None:
            raise UsageError("link", f"Slack has no message {ref.root_ts} in {ref.channel_id}")
        requester = root.get("user")
        conversation = {"conversation_id": conversation_key(slack.team_id(), ref.channel_id, ref.root_ts)}
    external_id = _external_id(conversation)
    zendesk.set_external_id(ticket, external_id)
    previous = conversation.get("ticket_id")
    if previous == ticket_id:
        env.say(f"{conversation['conversation_id']} is already linked to #{ticket_id}; nothing to do")
        return 0
    if previous:
        old = zendesk.ticket(int(previous))
        if old is not None and (old.external_id or None) == external_id:
            zendesk.set_external_id(old, None)  # its events must not reach the thread any more
    action = OperatorAction(
        kind="relink",
        action_id=uuid.uuid4().hex,
        conversation_id=str(conversation["conversation_id"]),
        by=_operator(args.by),
        at=now_iso(),
        team_id=str(conversation["conversation_id"]).split(":", 1)[0],
        channel_id=ref.channel_id,
        thread_ts=ref.root_ts,
        ticket_id=ticket_id,
        ticket_url=zendesk.url(ticket_id),
        ticket_status=str(ticket.status) if ticket.status else None,
        requester_slack_id=requester,
    )
    env.say(f"relinking {action.conversation_id} to #{ticket_id}" + (f" (was #{previous})" if previous else ""))
    return _send_action(env, action, _relinked(ticket_id))


def run_unlink(args: argparse.Namespace, env: Env) -> int:
    target: parse.Target = args.target
    conversation = _only(_find(env, target), "target", target)
    if conversation is None:
        raise OpsError(f"no conversation for {_named(target)}: nothing to unlink")
    zendesk = Zendesk(env.ops)
    ticket_id = conversation.get("ticket_id")
    if ticket_id:
        ticket = zendesk.ticket(int(ticket_id))
        if ticket is not None and (ticket.external_id or None) == _external_id(conversation):
            zendesk.set_external_id(ticket, None)  # a later backfill opens a new ticket, not this one
    action = OperatorAction(
        kind="unlink",
        action_id=uuid.uuid4().hex,
        conversation_id=str(conversation["conversation_id"]),
        by=_operator(args.by),
        at=now_iso(),
        ticket_id=int(ticket_id) if ticket_id else None,
    )
    env.say(f"unlinking {action.conversation_id}" + (f" from #{ticket_id}" if ticket_id else ""))
    return _send_action(env, action, lambda value: value is None)


# --- backfill -----------------------------------------------------------------------------------


def _channels(env: Env) -> ChannelsConfig | None:
    path = env.ops.channels_file
    if path is None:
        return None
    try:
        return load_channels(path)
    except Exception as exc:  # the router would refuse to start on it too: say why
        raise OpsError(f"cannot read the channel file {path}: {exc}") from exc


def _check_channel(env: Env, channel: str, argument: str) -> None:
    channels = _channels(env)
    if channels is not None and channels.rules_for(channel) is None:
        raise UsageError(argument, f"{channel} is not a support channel in {env.ops.channels_file}")


def run_backfill(args: argparse.Namespace, env: Env) -> int:
    ref: parse.ThreadRef | None = args.link
    if ref is not None and (args.channel or args.since or args.until):
        raise UsageError("link", "give a thread link, or --channel with --since, not both")
    if ref is None:
        if not args.channel:
            raise UsageError("link", "give a Slack thread link, or --channel and --since")
        if args.since is None:
            raise UsageError("--since", "required with --channel")
        if args.until is not None and args.until < args.since:
            raise UsageError("--until", f"{args.until.isoformat()} is before --since {args.since.isoformat()}")
        if args.since > datetime.now(UTC):
            raise UsageError("--since", f"{args.since.isoformat()} is in the future")
    channel = ref.channel_id if ref is not None else str(args.channel)
    _check_channel(env, channel, "link" if ref is not None else "--channel")
    slack = Slack(env.ops)
    team = slack.team_id()
    if ref is not None:
        threads = [slack.thread(channel, ref.root_ts)]
        if not any(m["ts"] == ref.root_ts for m in threads[0]):
            raise UsageError("link", f"Slack has no thread {ref.root_ts} in {channel}")
    else:
        roots = slack.top_level(channel, args.since, args.until)
        threads = [slack.thread(channel, r["ts"]) if r.get("reply_count") else [r] for r in roots]
    table = env.io.read_table(env.topics.links)
    inbound = env.topics.router_inbound
    progress = Progress(len(threads), "backfill", env.err)
    new = existing = messages = 0
    for thread in threads:
        root_ts = thread[0].get("thread_ts") or thread[0]["ts"]
        cid = conversation_key(team, channel, root_ts)
        existing += cid in table
        new += cid not in table
        records: list[Record] = [
            (
                cid.encode(),
                backfill_record(team, channel, root_ts, m, explicit=ref is not None),
                [(SOURCE_HEADER, OPS_SOURCE.encode())],
                None,
            )
            for m in thread
            if is_conversation(m)
        ]
        env.io.send(inbound, records)  # a thread's messages in order, on its conversation's partition
        messages += len(records)
        progress.step(f"{root_ts} ({len(records)} messages)")
    env.say(
        f"backfill sent {len(threads)} threads ({messages} messages) of {channel} to the router: "
        f"{new} without a conversation yet, {existing} already linked (only what the ticket misses is added)"
    )
    if threads:
        env.say("the router opens the tickets it decides to; `threadline-ops show <link>` shows a thread's state")
    return 0


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

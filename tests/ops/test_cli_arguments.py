"""What operators type: links, dates, offsets and ids are understood, and every wrong argument
is refused with exit code 2 and one line naming it, before anything is read or sent."""

import subprocess
import sys
from datetime import UTC, datetime

import pytest

from threadline_router.ops import parse
from threadline_router.ops.cli import main

pytestmark = pytest.mark.unit

LINK = "https://acme.slack.com/archives/C0SUPPORT/p1795984450000001"
REPLY = "https://acme.slack.com/archives/C0SUPPORT/p1795984460000002?thread_ts=1795984450.000001&cid=C0SUPPORT"


def test_thread_links_of_a_root_and_of_a_reply_name_the_same_thread():
    root, reply = parse.parse_thread_link(LINK), parse.parse_thread_link(REPLY)
    assert (root.channel_id, root.root_ts, root.message_ts) == ("C0SUPPORT", "1795984450.000001", "1795984450.000001")
    assert (reply.channel_id, reply.root_ts, reply.message_ts) == (
        "C0SUPPORT",
        "1795984450.000001",
        "1795984460.000002",
    )
    assert parse.parse_thread_link("https://acme.enterprise.slack.com/archives/G0PRIV/p1795984450000001").workspace == (
        "acme"
    )


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("https://example.com/archives/C0SUPPORT/p1795984450000001", "not a Slack thread link"),
        ("ftp://acme.slack.com/archives/C0SUPPORT/p1795984450000001", "not a Slack thread link"),
        ("https://acme.slack.com/messages/C0SUPPORT", "not a Slack message link"),
        ("https://acme.slack.com/archives/C0SUPPORT/p12", "not a Slack message link"),
        ("https://acme.slack.com/archives/general/p1795984450000001", "not a Slack channel id"),
        (LINK + "?thread_ts=yesterday", "not a Slack timestamp"),
        (LINK + "?thread_ts=1795984450.000001&cid=C0OTHER", "names another channel"),
    ],
)
def test_anything_else_is_refused_with_what_was_expected(text, says):
    with pytest.raises(ValueError, match=says):
        parse.parse_thread_link(text)


def test_targets_dates_and_offsets():
    assert (
        parse.parse_target("T0ACME:C0SUPPORT:1795984450.000001").conversation_id == "T0ACME:C0SUPPORT:1795984450.000001"
    )
    assert parse.parse_target("zd:42").conversation_id == "zd:42"
    assert parse.parse_target("#42").ticket_id == 42 and parse.parse_target("42").ticket_id == 42
    assert parse.parse_target(REPLY).thread.root_ts == "1795984450.000001"
    with pytest.raises(ValueError, match="not a conversation id, a Slack thread link or a ticket id"):
        parse.parse_target("C0SUPPORT")
    with pytest.raises(ValueError, match=r"not a conversation id, a Slack thread link \(e\.g\."):
        parse.parse_target("42", allow_ticket=False)
    assert parse.parse_time("2026-11-23") == datetime(2026, 11, 23, tzinfo=UTC)
    assert parse.parse_time("2026-11-23", end_of_day=True) == datetime(2026, 11, 23, 23, 59, 59, 999999, tzinfo=UTC)
    assert parse.parse_time("2026-11-23T10:00:00+01:00") == datetime(2026, 11, 23, 9, tzinfo=UTC)
    assert parse.parse_position("17") == 17
    assert parse.parse_position("2026-11-23T10:00Z") == datetime(2026, 11, 23, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("argv", "argument"),
    [
        (["show", "nonsense"], "argument target"),
        (["show"], "target"),
        (["relink", LINK, "#x"], "argument ticket"),
        (["relink", "https://acme.slack.com/x", "42"], "argument link"),
        (["relink", LINK], "ticket"),
        (["unlink", "42"], "argument target"),
        (["dlq", "replay", "threadline.nope"], "argument topic"),
        (["dlq", "replay", "threadline.commands.dlq"], "argument topic"),
        (["dlq", "replay", "threadline.commands", "--since", "-3"], "argument --since"),
        (["dlq", "replay", "threadline.commands", "--until", "soon"], "argument --until"),
        (["dlq", "replay", "threadline.commands", "--since", "9", "--until", "3"], "argument --until"),
        (["dlq", "frobnicate"], "argument command"),
        (["backfill"], "argument link"),
        (["backfill", LINK, "--channel", "C0SUPPORT"], "argument link"),
        (["backfill", "--channel", "C0SUPPORT"], "argument --since"),
        (["backfill", "--channel", "support", "--since", "2026-11-01"], "argument --channel"),
        (["backfill", "--channel", "C0SUPPORT", "--since", "Monday"], "argument --since"),
        (["backfill", "--channel", "C0SUPPORT", "--since", "2026-11-02", "--until", "2026-11-01"], "argument --until"),
        (["backfill", "--channel", "C0SUPPORT", "--since", "2999-01-01"], "argument --since"),
        (["frobnicate"], "argument command"),
    ],
)
def test_wrong_arguments_exit_2_with_one_line_naming_them(argv, argument, capsys, monkeypatch):
    # Checked before anything is read: no Kafka is needed to be told.
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and argument in err and "Traceback" not in err


def test_the_console_command_answers_without_a_traceback(tmp_path):
    bad = subprocess.run(
        [sys.executable, "-m", "threadline_router.ops", "backfill", "https://acme.slack.com/archives/C0X/p1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "argument link" in bad.stderr
    # A broker that is not there: exit 1 and the reason, not a stack.
    down = subprocess.run(
        [sys.executable, "-m", "threadline_router.ops", "show", "#42"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9", "THREADLINE_OPS_KAFKA_TIMEOUT_SECONDS": "2", "PATH": "/usr/bin"},
    )
    assert (
        down.returncode == 1 and "cannot reach Kafka at 127.0.0.1:9" in down.stderr and "Traceback" not in down.stderr
    )

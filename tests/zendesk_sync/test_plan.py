"""The pure parts of zendesk-sync: what is sent to Zendesk and Slack, what counts as done,
which failures are retried and how. Commands and results are the contract's own examples."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest
from msgspec.structs import replace
from threadline_testing.hostile import HOSTILE, links, pings_nobody

from threadline_common import confirmation, from_slack
from threadline_common.dlq import PoisonMessage
from threadline_common.models import Command as CommandV1
from threadline_common.models.generated.commands_v4 import SlackFile, SlackMessageMetadata
from threadline_common.retry import TransientError
from threadline_common.schemas import validate
from threadline_zendesk_sync.app import decode_command
from threadline_zendesk_sync.plan import attachments, failures, outcomes, people, slack_posts, zendesk_requests
from threadline_zendesk_sync.plan.failures import NotFound, PermanentError
from threadline_zendesk_sync.plan.people import Person

pytestmark = pytest.mark.unit

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"


def example(topic: str, name: str, version: int = 1) -> dict:
    return json.loads((EXAMPLES / topic / str(version) / name).read_text())


def command(name: str):
    """A v1 example as the worker reads it: the contract's v2 struct."""
    return decode_command((EXAMPLES / "threadline.commands" / "1" / name).read_bytes())


ALICE = Person("U0ASKER", "Alice Asker", "alice@example.com")
GUEST = Person("U0GUEST", "Gina Guest", None)


# --- decoding ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", sorted((EXAMPLES / "threadline.commands").glob("*/*.json")), ids=lambda p: f"v{p.parent.name}-{p.stem}"
)
def test_every_contract_example_is_a_command(path: Path):
    command = decode_command(path.read_bytes())
    assert command.command_id and outcomes.command_type(command) == json.loads(path.read_bytes())["type"]


@pytest.mark.parametrize("path", sorted((EXAMPLES / "threadline.commands" / "1").glob("*.json")), ids=lambda p: p.stem)
def test_a_v1_record_reads_as_the_same_command_in_the_v2_union(path: Path):
    # The v2 contract says it reads every v1 command: the same variant, the same fields, and
    # written back it is the same record.
    raw = path.read_bytes()
    as_v1 = msgspec.json.decode(raw, type=CommandV1)
    as_v2 = decode_command(raw)
    assert type(as_v2).__name__ == type(as_v1).__name__
    assert type(as_v2).__struct_config__.tag == type(as_v1).__struct_config__.tag == json.loads(raw)["type"]
    assert msgspec.to_builtins(as_v2) == msgspec.to_builtins(as_v1) == json.loads(raw)
    assert json.loads(msgspec.json.encode(as_v2)) == json.loads(raw)


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (b"{not json", "not JSON"),
        (None, "not JSON"),
        (b"[" * 100_000, "threadline.commands: Expected `object`"),
        (
            json.dumps(example("threadline.commands", "09_slack_post_agent_comment.json"))[:-1].encode()
            + b', "extra": '
            + b"[" * 100_000
            + b"]" * 100_000
            + b"}",
            "not JSON: nested too deep",
        ),
        (
            json.dumps(
                {**example("threadline.commands", "06_zendesk_set_status_solved.json"), "type": "zendesk.delete_ticket"}
            ),
            "Invalid value 'zendesk.delete_ticket' - at `\\$.type`",
        ),
        (
            json.dumps(
                {
                    k: v
                    for k, v in example("threadline.commands", "03_zendesk_add_comment_while_creating.json").items()
                    if k != "body"
                }
            ),
            "missing required field `body`",
        ),
    ],
    ids=["garbage", "empty", "an array", "nested too deep", "unknown type", "missing field"],
)
def test_what_is_not_a_command_is_poison(value, why):
    with pytest.raises(PoisonMessage, match=why):
        decode_command(value if isinstance(value, bytes | None) else value.encode())


# --- people and text -----------------------------------------------------------------------------------


def test_a_slack_user_is_known_by_real_name_and_email():
    user = {
        "id": "U0ASKER",
        "name": "alice",
        "real_name": "Alice A.",
        "profile": {"real_name": "Alice Asker", "display_name": "ali", "email": "alice@example.com"},
    }
    assert people.person_from_slack("U0ASKER", user) == ALICE
    assert ALICE.zendesk_external_id is None


def test_a_slack_connect_guest_without_email_gets_a_slack_identity_not_a_guessed_address():
    guest = people.person_from_slack(
        "U0GUEST", {"id": "U0GUEST", "name": "guest", "profile": {"real_name": "Gina Guest"}}
    )
    assert guest == GUEST
    assert guest.zendesk_external_id == "slack:U0GUEST"


def test_bots_never_become_zendesk_users():
    bot = people.person_from_slack(
        "U0BOT", {"is_bot": True, "name": "deploybot", "profile": {"email": "x@example.com"}}
    )
    assert (bot.name, bot.email, bot.zendesk_external_id) == ("deploybot", None, None)
    assert people.person_from_slack("B0ALERTS", None).zendesk_external_id is None


def test_an_unknown_user_is_named_by_id_and_what_the_router_knew_wins():
    assert people.person_from_slack("U0GONE", None) == Person("U0GONE", "U0GONE", None)
    assert people.person_from_slack(None, None).name == "Someone in Slack"
    known = people.person_from_slack("U0SRE", {"profile": {"real_name": "Sam"}}, "Sam SRE", "sam@example.com")
    assert (known.name, known.email) == ("Sam SRE", "sam@example.com")


def test_slack_markup_reads_as_zendesk_markdown_for_agents():
    text = (
        "<@U0BOB> and <@U0ANN|ann> see <#C0SUPPORT|support>, <!here>: "
        "<https://status.example.com|status page>, <https://example.com>, <mailto:a@example.com|a@example.com> "
        "&lt;b&gt; &amp; <!subteam^S0OPS|@ops>"
    )
    assert from_slack.mentioned_users(text + " <@U0BOB>") == ["U0BOB", "U0ANN"]
    assert from_slack.to_zendesk(text, {"U0BOB": "Bob Builder"}) == (
        "@Bob Builder and @ann see #support, @here: [status page](https://status.example.com), "
        "<https://example.com>, a@example.com <b> & @ops"
    )


def test_a_subject_is_the_first_line_cut_at_a_word():
    assert from_slack.subject("\n  Printer on fire  \nthird floor") == "Printer on fire"
    assert from_slack.subject("") == "Support request from Slack"
    long = from_slack.subject("word " * 40, limit=22)
    assert long == "word word word word…"


def test_the_routers_notes_name_people_instead_of_ids_and_leave_quoted_text_alone():
    edit = command("05_zendesk_add_comment_edit_note.json").body + " (ask U0SRE2)"
    assert zendesk_requests.note_people(edit) == ["U0SRE"]
    assert (
        zendesk_requests.name_people(edit, {"U0SRE": "Sam"})
        == "Edited in Slack by Sam:\n\nWhich floor and which printer? (ask U0SRE2)"
    )
    solved = command("06_zendesk_set_status_solved.json").comment
    assert zendesk_requests.note_people(solved) == ["U0ASKER"]
    assert zendesk_requests.name_people(solved, {"U0ASKER": "Alice"}) == "Solved from Slack by Alice."
    assert zendesk_requests.name_people("U0ASKERX", {"U0ASKER": "Alice"}) == "U0ASKERX"


# --- files ----------------------------------------------------------------------------------------------


def test_files_over_the_limit_or_without_a_link_stay_in_slack_with_a_note():
    files = [
        SlackFile(id="F1", name="small.png", size=10, url_private="https://files.slack.com/F1"),
        SlackFile(id="F2", name="huge.mov", size=30_000_000, url_private="https://files.slack.com/F2"),
        SlackFile(id="F3", name="gdoc"),
        SlackFile(id="F4", url_private="https://files.slack.com/F4"),  # size unknown: try
    ]
    carry, notes = attachments.split_files(files, 20_000_000)
    assert [f.id for f in carry] == ["F1", "F4"]
    assert notes == ["huge.mov: 30 MB, over the 20 MB limit", "gdoc: not downloadable from Slack"]
    assert attachments.files_note(notes).endswith(
        "• huge.mov: 30 MB, over the 20 MB limit\n• gdoc: not downloadable from Slack"
    )
    assert attachments.files_note([]) == ""


# --- Zendesk requests ------------------------------------------------------------------------------


def test_a_new_ticket_carries_routing_link_requester_files_and_the_command_id():
    cmd = command("01_zendesk_create_ticket.json")
    body = zendesk_requests.ticket_request(
        cmd,
        body=cmd.body,
        requester_id=42,
        requester=ALICE,
        permalink="https://example.slack.com/archives/C0SUPPORT/p1700000000000100",
        uploads=["tok1"],
        file_notes=[],
    )
    assert body == {
        "subject": "Printer on fire",
        "comment": {
            "body": "Printer on fire\nThird floor, next to the kitchen.\n\n—\n"
            "Slack thread: https://example.slack.com/archives/C0SUPPORT/p1700000000000100",
            "public": True,
            "uploads": ["tok1"],
        },
        "external_id": "T0001:C0SUPPORT:1700000000.000100",
        "tags": ["slack"],
        "metadata": {"threadline_command_id": "create:T0001:C0SUPPORT:1700000000.000100"},
        "requester_id": 42,
        "group_id": 10,
        "priority": "normal",
        "custom_fields": [{"id": 360001, "value": "slack"}],
    }


def test_a_private_request_names_no_channel_and_links_nowhere():
    cmd = decode_command(
        (EXAMPLES / "threadline.commands" / "3" / "09_zendesk_create_ticket_private_dm.json").read_bytes()
    )
    body = zendesk_requests.ticket_request(
        cmd,
        body=cmd.body,
        requester_id=42,
        requester=ALICE,
        permalink="https://example.slack.com/archives/D0ALICE/p1764583200000100",  # never used
        uploads=[],
        file_notes=[],
    )
    assert body["comment"]["body"] == f"My payslip shows the wrong tax code\n\n—\n{zendesk_requests.PRIVATE_NOTE}"
    assert "slack.com" not in json.dumps(body) and "D0ALICE" not in body["comment"]["body"]
    assert body["tags"] == ["slack", "slack-dm", "private"] and body["group_id"] == 20 and body["priority"] == "high"


def test_a_follow_up_links_the_closed_ticket():
    cmd = command("07_zendesk_create_followup.json")
    body = zendesk_requests.ticket_request(
        cmd, body=cmd.body, requester_id=42, requester=ALICE, permalink=cmd.permalink, uploads=[], file_notes=[]
    )
    assert body["via_followup_source_id"] == 4017
    assert body["external_id"].endswith("#2")
    assert "uploads" not in body["comment"]


def test_a_requester_zendesk_cannot_know_is_named_in_the_first_comment():
    cmd = command("02_zendesk_create_ticket_from_reaction.json")
    body = zendesk_requests.ticket_request(
        replace(cmd, subject=""),
        body="disk full on build-7",
        requester_id=None,
        requester=Person("B0CI", "ci-bot", None, is_bot=True),
        permalink=None,
        uploads=[],
        file_notes=["log.txt: not downloadable from Slack"],
        opened_by="Sam SRE",
    )
    assert body["subject"] == "disk full on build-7"
    assert "requester_id" not in body
    assert body["comment"]["body"] == (
        "ci-bot asked in Slack:\n\ndisk full on build-7"
        "\n\nAttachments left in Slack (open the thread to see them):\n• log.txt: not downloadable from Slack"
        "\n\nTicket opened from Slack by Sam SRE."
    )


def test_a_reply_is_a_public_comment_by_its_author_with_the_command_in_the_audit():
    cmd = command("03_zendesk_add_comment_while_creating.json")
    body = zendesk_requests.comment_request(
        cmd, body="Which floor?", author_id=7, author=ALICE, uploads=[], file_notes=[]
    )
    assert body == {
        "comment": {"body": "Which floor?", "public": True, "author_id": 7},
        "metadata": {"threadline_command_id": "comment:C0SUPPORT:1700000000.000200", "slack_ts": "1700000000.000200"},
    }


def test_a_reply_without_a_zendesk_author_is_labelled_and_a_solved_ticket_reopens():
    cmd = command("04_zendesk_add_comment_reopens.json")
    body = zendesk_requests.comment_request(
        cmd, body="still smoking", author_id=None, author=GUEST, uploads=["t"], file_notes=[]
    )
    assert body["comment"] == {"body": "Gina Guest wrote in Slack:\n\nstill smoking", "public": True, "uploads": ["t"]}
    assert body["status"] == "open"


def test_an_edit_note_is_internal_and_written_by_the_api_user():
    cmd = command("05_zendesk_add_comment_edit_note.json")
    body = zendesk_requests.comment_request(cmd, body=cmd.body, author_id=7, author=ALICE, uploads=[], file_notes=[])
    assert body["comment"] == {"body": cmd.body, "public": False}
    assert "status" not in body


def test_status_changes_only_when_needed_and_never_on_a_closed_ticket():
    cmd = command("06_zendesk_set_status_solved.json")
    assert zendesk_requests.status_request(cmd, 4017, "solved", "note") is None
    assert zendesk_requests.status_request(cmd, 4017, "closed", "note") is None
    assert zendesk_requests.status_request(cmd, 4017, "open", "Solved from Slack by Alice.") == {
        "status": "solved",
        "metadata": {"threadline_command_id": "solve:C0SUPPORT:1700000000.000500"},
        "comment": {"body": "Solved from Slack by Alice.", "public": False},
    }
    assert "comment" not in (zendesk_requests.status_request(cmd, 4017, "pending", None) or {})
    with pytest.raises(PermanentError, match="ticket #4017 is closed; it cannot become open"):
        zendesk_requests.status_request(replace(cmd, status="open"), 4017, "closed", None)


# --- loop guard ----------------------------------------------------------------------------------------


def test_comments_from_real_zendesk_are_not_ours_and_ours_are_recognised(real_payloads):
    listed = json.loads(
        (real_payloads / "zendesk/api/list_ticket_comments_200_with_attachment_zenpy_recorded.json").read_text()
    )
    zenpy_dicts = json.loads(
        (real_payloads / "zendesk/api/zenpy_comment_objects_from_zenslackchat_tests.json").read_text()
    )
    for comment in listed["comments"] + zenpy_dicts:
        assert zendesk_requests.written_by_us(comment) is None
        assert zendesk_requests.agent_may_post(comment) is bool(comment["public"])
    ours = {**zenpy_dicts[0], "metadata": {"system": {}, "custom": {"threadline_command_id": "comment:C1:1.2"}}}
    assert zendesk_requests.written_by_us(ours) == "comment:C1:1.2"
    assert not zendesk_requests.agent_may_post(ours)
    assert zendesk_requests.agent_may_post(None)


def test_an_agents_photo_is_taken_when_zendesk_has_one():
    assert people.photo_url({"photo": {"content_url": "https://z/ann.png", "thumbnails": []}}) == "https://z/ann.png"
    assert people.photo_url({"photo": {"content_url": None, "thumbnails": [{"content_url": "https://z/t.png"}]}}) == (
        "https://z/t.png"
    )
    assert people.photo_url({"photo": None}) is None
    assert people.photo_url(None) is None


# --- Slack posts -------------------------------------------------------------------------------------


def test_posts_keep_the_routers_metadata_and_always_name_the_command():
    cmd = command("09_slack_post_agent_comment.json")
    assert slack_posts.post_metadata(cmd.command_id, cmd.metadata) == {
        "event_type": "threadline_agent_comment",
        "event_payload": {"ticket_id": 4017, "comment_id": 30000000001, "command_id": "zd-comment:30000000001"},
    }
    assert slack_posts.post_metadata("help:C1:1.2", None, ticket_id=3) == {
        "event_type": "threadline_post",
        "event_payload": {"ticket_id": 3, "command_id": "help:C1:1.2"},
    }


def test_our_posts_are_found_in_a_thread_and_nobody_elses(real_payloads):
    thread = json.loads(
        (real_payloads / "slack/inner_events/zenslackchat_conversations_replies_thread_messages.json").read_text()
    )
    assert [slack_posts.posted_command(m) for m in thread] == [None] * len(thread)
    given = SlackMessageMetadata(event_type="threadline_agent_comment", event_payload={})
    ours = {**thread[1], "metadata": slack_posts.post_metadata("zd-comment:5", given)}
    other_app = {**thread[1], "metadata": {"event_type": "task_created", "event_payload": {"command_id": "x"}}}
    assert slack_posts.posted_command(ours) == "zd-comment:5"
    assert slack_posts.posted_command(other_app) is None


def test_an_agent_comment_is_posted_under_the_agents_name_and_photo():
    cmd = command("09_slack_post_agent_comment.json")
    with_name = replace(
        cmd, metadata=replace(cmd.metadata, event_payload={**cmd.metadata.event_payload, "author_name": "Ann"})
    )
    assert slack_posts.agent_post(with_name, "https://z/ann.png") == {
        "username": "Ann",
        "icon_url": "https://z/ann.png",
        "blocks": cmd.blocks,
    }
    assert slack_posts.agent_post(replace(cmd, blocks=None), None) == {}


def test_the_ticket_link_says_which_ticket_and_whether_it_follows_a_closed_one():
    assert slack_posts.ticket_link_text(7, "https://z/7", None).startswith(":ticket: I opened ticket <https://z/7|#7>.")
    followup = slack_posts.ticket_link_text(8, "https://z/8", 7)
    assert followup.startswith(":ticket: Ticket #7 is closed, so I opened follow-up ticket <https://z/8|#8>.")
    [section, actions] = confirmation.blocks(confirmation.Confirmation("T1:C1:1.2", 7, "https://z/7"))
    assert section["text"]["text"] == slack_posts.ticket_link_text(7, "https://z/7", None)
    assert actions["elements"][-1]["url"] == "https://z/7"


def test_an_emailed_ticket_opens_with_subject_sender_link_and_a_quoted_excerpt():
    cmd = command("13_slack_open_thread.json")
    sender = slack_posts.thread_opener({"name": "Dana", "email": "dana@example.com"})
    text = slack_posts.email_thread_text(replace(cmd, body="line one\nline two"), sender, "https://z/4020")
    assert text == (
        ":email: *VPN drops every hour*\n"
        "From Dana <mailto:dana@example.com|dana@example.com>, ticket <https://z/4020|#4020>. "
        "Replies in this thread go to the ticket.\n>line one\n>line two"
    )
    long = slack_posts.email_thread_text(replace(cmd, body="x" * 5000), "Dana", "https://z/4020")
    assert "x…\n" in long and len(long) < 1700
    assert long.endswith("_Shortened: the whole email is on ticket <https://z/4020|#4020>._")
    assert slack_posts.thread_opener(None) == "someone"
    assert slack_posts.thread_opener({"name": "dana@example.com", "email": "dana@example.com"}) == "dana@example.com"


# --- results -------------------------------------------------------------------------------------------


def test_results_are_the_contracts_records():
    create = command("01_zendesk_create_ticket.json")
    created = outcomes.result(
        "ticket_created", create, ticket_id=4017, ticket_url="https://example.zendesk.com/agent/tickets/4017"
    )
    assert msgspec.to_builtins(created) == example("threadline.sync.results", "ticket_created.json", 2)

    open_thread = command("13_slack_open_thread.json")
    moved = outcomes.result(
        "thread_opened",
        open_thread,
        ticket_id=4020,
        ticket_url="https://example.zendesk.com/agent/tickets/4020",
        team_id="T0001",
        channel_id="C0SUPPORT",
        thread_ts="1700000100.000200",
        moved_from="zd:4020",
    )
    assert msgspec.to_builtins(moved) == example("threadline.sync.results", "thread_opened_for_email.json", 2)

    failed = outcomes.result("failed", command("03_zendesk_add_comment_while_creating.json"), reason="closed")
    assert (failed.team_id, failed.channel_id, failed.thread_ts) == ("T0001", "C0SUPPORT", "1700000000.000100")
    for record in (created, moved, failed):
        validate("threadline.sync.results", 2, msgspec.to_builtins(record))
    assert failed.command_type == "zendesk.add_comment"
    long = outcomes.result("failed", create, reason="x" * 5000)
    assert len(long.reason) == outcomes.REASON_LIMIT  # the contract bounds it
    validate("threadline.sync.results", 2, msgspec.to_builtins(long))
    with pytest.raises(TypeError):
        outcomes.result("failed", create, colour="red")


# --- failures and pacing -------------------------------------------------------------------------------------


def test_zendesk_answers_worth_retrying_are_transient_and_keep_retry_after():
    limited = failures.zendesk_failure(429, "", "17")
    assert isinstance(limited, TransientError) and limited.retry_after == 17.0
    assert isinstance(failures.zendesk_failure(409, "{}"), TransientError)
    assert isinstance(failures.zendesk_failure(503, "<html>"), TransientError)
    assert isinstance(failures.zendesk_failure(None), TransientError)
    assert failures.zendesk_failure(503, "", "soon").retry_after is None


def test_zendesk_refusals_are_permanent_in_zendesks_words(real_payloads):
    closed = json.dumps(
        {
            "error": "RecordInvalid",
            "description": "Record validation errors",
            "details": {"status": [{"description": "Status: closed prevents ticket update"}]},
        }
    )
    refused = failures.zendesk_failure(422, closed)
    assert type(refused) is PermanentError
    assert str(refused) == "Zendesk answered 422: Record validation errors; Status: closed prevents ticket update"
    not_found = (real_payloads / "zendesk/api/update_ticket_404_record_not_found_zenpy_recorded.json").read_text()
    assert isinstance(failures.zendesk_failure(404, not_found), NotFound)
    assert str(failures.zendesk_failure(404, not_found)) == "Zendesk answered 404: Not found"
    assert str(failures.zendesk_failure(403, "Forbidden")) == "Zendesk answered 403: Forbidden"


def test_slack_errors_worth_retrying_are_transient():
    limited = failures.slack_failure(429, "ratelimited", "30")
    assert isinstance(limited, TransientError) and limited.retry_after == 30.0
    assert isinstance(failures.slack_failure(200, "internal_error"), TransientError)
    assert isinstance(failures.slack_failure(503, None), TransientError)
    refused = failures.slack_failure(200, "invalid_blocks")
    assert type(refused) is PermanentError and str(refused) == "Slack answered invalid_blocks"


@pytest.mark.parametrize("error", ["thread_not_found", "message_not_found", "is_archived"])
def test_a_thread_or_channel_slack_no_longer_has_is_gone_not_retried(error):
    gone = failures.slack_failure(200, error)
    assert isinstance(gone, failures.ThreadGone) and isinstance(gone, PermanentError)
    assert str(gone) == f"Slack answered {error}"


def test_channel_not_found_says_it_may_be_a_private_channel_the_app_is_not_in():
    # Slack hides a private channel from a non-member: the same answer as for a deleted one.
    gone = failures.slack_failure(200, "channel_not_found")
    assert isinstance(gone, failures.ThreadGone)
    assert str(gone).startswith("Slack answered channel_not_found")
    assert "private" in str(gone) and "invite the app" in str(gone)


def test_a_zendesk_user_found_by_search_must_be_the_same_person():
    assert people.same_user({"email": "Alice@Example.com"}, "alice@example.com", "alice@example.com")
    assert not people.same_user({"email": "malice@example.com"}, "alice@example.com", "alice@example.com")
    assert people.same_user({"email": None, "external_id": "slack:U0GUEST"}, None, "slack:U0GUEST")
    assert not people.same_user({"email": None, "external_id": None}, None, "slack:U0GUEST")


# --- outside text in Slack posts ---------------------------------------------------------------------


@pytest.mark.parametrize("text", [t for _, t in HOSTILE], ids=[n for n, _ in HOSTILE])
def test_an_emailed_subject_body_or_sender_pings_nobody(text):
    cmd = replace(command("13_slack_open_thread.json"), subject=text, body=f"{text}\n\nsecond line {text}")
    sender = slack_posts.thread_opener({"name": text, "email": "dana@example.com"})
    shown = slack_posts.email_thread_text(cmd, sender, "https://z/4020")
    assert pings_nobody(shown)
    assert [url for url, _ in links(shown)] == ["mailto:dana@example.com", "https://z/4020"], "only our links"


@pytest.mark.parametrize("text", [t for _, t in HOSTILE], ids=[n for n, _ in HOSTILE])
def test_zendesk_file_names_and_pagerduty_names_ping_nobody(text):
    lines = attachments.attachment_lines([{"content_url": "https://z/a/1", "file_name": text, "size": 10}])
    assert pings_nobody(lines) and links(lines)[0][0] == "https://z/a/1"
    assert pings_nobody(attachments.files_left_text([f"{text}: too large"], 10))


def test_the_emailed_tickets_note_names_the_thread_and_is_written_once():
    body = zendesk_requests.thread_note_request(
        "thread-note:open-thread:4020", "T1:C1:1.2", "https://acme.slack.com/p12", "C1"
    )
    assert body == {
        "external_id": "T1:C1:1.2",
        "comment": {
            "body": "This email opened a Slack thread: https://acme.slack.com/p12\nReplies there are added to this ticket.",
            "public": False,
        },
        "metadata": {zendesk_requests.COMMAND_KEY: "thread-note:open-thread:4020"},
    }
    assert zendesk_requests.written_by_us({"metadata": {"custom": body["metadata"]}}) == "thread-note:open-thread:4020"


def test_a_ticket_subject_names_people_and_shows_emoji():
    assert (
        from_slack.subject("<@U0BOB> says printer on fire :fire:", {"U0BOB": "Bob"}) == "@Bob says printer on fire 🔥"
    )
    ticket = zendesk_requests.ticket_request(
        command("01_zendesk_create_ticket.json"),
        body="x",
        requester_id=1,
        requester=ALICE,
        permalink=None,
        uploads=[],
        file_notes=[],
        subject="on fire 🔥",
    )
    assert ticket["subject"] == "on fire 🔥"

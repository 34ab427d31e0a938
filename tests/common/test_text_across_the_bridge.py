"""What Slack users see of outside text (to_slack), what agents see of Slack text (from_slack),
and which Slack messages are conversation (slack_messages)."""

import json
import logging

import pytest
from threadline_testing.hostile import HOSTILE, links, pings_nobody
from threadline_testing.records import PAYLOADS

from threadline_common import from_slack, to_slack
from threadline_common.slack_messages import CONVERSATION_SUBTYPES, DOCUMENTED_IGNORED, message_kind

pytestmark = pytest.mark.unit

NAMES = [name for name, _ in HOSTILE]
TEXTS = [text for _, text in HOSTILE]


# --- outside text in Slack --------------------------------------------------------------------------


@pytest.mark.parametrize("text", TEXTS, ids=NAMES)
def test_escaped_outside_text_is_shown_as_written_and_pings_nobody(text):
    shown = to_slack.escape(text)
    assert pings_nobody(shown) and not links(shown)
    assert "<" not in shown and ">" not in shown
    # Slack unescapes &amp; &lt; &gt; once when it renders: the reader sees the original.
    assert shown.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == text


@pytest.mark.parametrize("convert", [to_slack.markdown_to_mrkdwn, to_slack.html_to_mrkdwn], ids=["markdown", "html"])
@pytest.mark.parametrize("text", TEXTS, ids=NAMES)
def test_no_conversion_of_an_agents_text_can_ping_or_hide_a_link(convert, text):
    shown = convert(text)
    assert pings_nobody(shown)
    for url, label in links(shown):
        assert label in ("", url) or "evil" not in url or "click" not in label, "no link hides where it goes"


def test_an_agents_html_reads_as_slack_formatting():
    html = (
        '<div class="zd-comment" dir="auto"><p dir="auto">Hi <b>Dana</b>, <i>please</i> <s>reboot</s> '
        'see <a href="https://kb.example.com/a?b=1&amp;c=2">the guide</a><br>then <code>ipconfig /renew</code></p>'
        "<ul><li>one</li><li>two</li></ul><blockquote>quoted</blockquote>"
        "<script>steal()</script><p>&lt;!channel&gt; &amp; <span>tagless</span></p></div>"
    )
    assert to_slack.html_to_mrkdwn(html) == (
        "Hi *Dana*, _please_ ~reboot~ see <https://kb.example.com/a?b=1&amp;c=2|the guide>\n"
        "then `ipconfig /renew`\n\n• one\n• two\n\n> quoted\n\n&lt;!channel&gt; &amp; tagless"
    )


def test_an_agents_markdown_reads_as_slack_formatting_and_typed_html_stays_text():
    text = "**Fixed** in _v2_, ~~old~~ `code`\n\n# Steps\n\n- [docs](https://docs.example.com)\n- <b>x</b>"
    assert to_slack.markdown_to_mrkdwn(text) == (
        "*Fixed* in _v2_, ~old~ `code`\n\n*Steps*\n\n• <https://docs.example.com|docs>\n• &lt;b&gt;x&lt;/b&gt;"
    )


def test_real_zendesk_comments_read_as_they_do_in_zendesk():
    comments = json.loads(
        (PAYLOADS / "zendesk" / "api" / "zenpy_comment_objects_from_zenslackchat_tests.json").read_text()
    )
    first = comments[0]
    link = "https://falconspacebasecamp.slack.com/archives/C0192NP3TFG/p1608291472001600"
    assert to_slack.zendesk_to_mrkdwn(first["html_body"], first["plain_body"]) == (
        f"This is the message on slack <{link}>."
    )


def test_links_keep_to_web_and_mail_addresses():
    assert to_slack.markdown_to_mrkdwn("[x](javascript:alert(1))") == "[x](javascript:alert(1))"
    assert to_slack.html_to_mrkdwn('<a href="javascript:alert(1)">x</a>') == "x"
    assert to_slack.html_to_mrkdwn('<a href="https://a.example/x|y>z">x</a>') == "<https://a.example/x%7Cy%3Ez|x>"
    assert to_slack.link("https://z/1", "#1 <b>") == "<https://z/1|#1 &lt;b&gt;>"


def test_the_html_body_wins_when_it_carries_the_formatting_else_the_markdown_body():
    assert to_slack.zendesk_to_mrkdwn("<p><strong>hi</strong> <a href='https://x.example'>x</a></p>", "hi x") == (
        "*hi* <https://x.example|x>"
    )
    # Zendesk's html_body of a comment written as plain text (or Markdown): paragraphs only.
    plain_html = '<div class="zd-comment" dir="auto"><p dir="auto">**hi** &lt;b&gt;</p></div>'
    assert to_slack.zendesk_to_mrkdwn(plain_html, "**hi** <b>") == "*hi* &lt;b&gt;"
    assert to_slack.zendesk_to_mrkdwn("", "**hi**") == "*hi*"
    assert to_slack.zendesk_to_mrkdwn("<p>only html</p>", "") == "only html"
    assert to_slack.zendesk_to_mrkdwn(None, None) == ""


def test_a_mention_is_only_of_an_id_threadline_resolved():
    assert to_slack.mention("U0SAM") == "<@U0SAM>"
    with pytest.raises(ValueError):
        to_slack.mention("!channel")
    assert to_slack.bold("<!here> *x*") == "*&lt;!here&gt; \u2217x\u2217*"


EMAIL = """Hi team,

The VPN drops every hour <!channel>.

Thanks,
Dana
--
Dana Doe | ACME Corp
+1 555 0100

On Mon, Nov 30, 2026 at 9:00 AM Support <support@acme.example> wrote:
> How can we help?
"""


def test_an_email_in_slack_is_its_latest_reply_without_signature_or_quotes():
    excerpt = to_slack.email_excerpt(EMAIL, 1500)
    assert excerpt.text == "Hi team,\n\nThe VPN drops every hour &lt;!channel&gt;."
    assert excerpt.shortened == "Signature and quoted replies left out"


def test_a_long_email_is_cut_and_says_so():
    excerpt = to_slack.email_excerpt("a" * 50, 10)
    assert excerpt.text == "a" * 10 + "…" and excerpt.shortened == "Shortened"
    whole = to_slack.email_excerpt("just this", 10)
    assert whole.text == "just this" and whole.shortened == ""


# --- Slack text in Zendesk ----------------------------------------------------------------------------


def test_agents_read_emoji_names_links_and_formatting():
    text = (
        "Printer on fire :fire: <@U0ANN> see <#C0OPS|ops>, <https://status.example.com|status> "
        "*now* _please_ ~maybe~ `keep *this* :fire:` &lt;b&gt; &amp;"
    )
    assert from_slack.to_zendesk(text, {"U0ANN": "Ann Agent"}) == (
        "Printer on fire 🔥 @Ann Agent see #ops, [status](https://status.example.com) "
        "**now** *please* ~~maybe~~ `keep *this* :fire:` <b> &"
    )


def test_a_subject_has_emoji_and_names_and_no_markup():
    router = from_slack.subject("*VPN* down :fire: for <@U0ANN> <https://x.example|here>")
    assert router == "VPN down 🔥 for <@U0ANN> here", "mentions wait for zendesk-sync, which knows names"
    assert from_slack.subject(router, {"U0ANN": "Ann"}) == "VPN down 🔥 for @Ann here"
    assert from_slack.subject("on fire :fire: &amp; more", {}) == "on fire 🔥 & more"


def test_words_with_marks_inside_are_not_formatting():
    assert from_slack.to_zendesk("snake_case_name and 2*3*4 ~/path", {}) == "snake_case_name and 2*3*4 ~/path"


# --- which Slack messages are conversation -----------------------------------------------------------


@pytest.mark.parametrize("subtype", sorted(DOCUMENTED_IGNORED))
def test_no_documented_system_subtype_is_conversation(subtype):
    assert message_kind({"type": "message", "subtype": subtype, "user": "U1", "text": "x", "ts": "1.2"}) == "ignored"


@pytest.mark.parametrize("subtype", [None, *sorted(CONVERSATION_SUBTYPES)])
def test_messages_people_write_are_conversation(subtype):
    event = {"type": "message", "user": "U1", "text": "x", "ts": "1.2"}
    if subtype:
        event["subtype"] = subtype
    assert message_kind(event) == "conversation"


def test_a_subtype_slack_adds_tomorrow_is_ignored_and_logged_once(caplog):
    caplog.set_level(logging.INFO, logger="threadline_common.slack_messages")
    for _ in range(3):
        assert message_kind({"type": "message", "subtype": "hologram_share_2031", "ts": "1.2"}) == "ignored"
    assert [r.getMessage() for r in caplog.records].count(
        "ignoring Slack message subtype 'hologram_share_2031': not one Threadline treats as conversation"
    ) == 1


def test_a_tombstone_is_a_deletion_and_a_hidden_notice_nothing():
    tombstone = {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "message": {"subtype": "tombstone", "hidden": True, "text": "This message was deleted.", "ts": "1.2"},
    }
    assert message_kind(tombstone) == "delete"
    assert message_kind({"type": "message", "subtype": "message_changed", "message": {"text": "y"}}) == "edit"
    assert message_kind({"type": "message", "subtype": "message_replied", "hidden": True}) == "ignored"
    assert message_kind({"type": "message", "hidden": True, "text": "x"}) == "ignored"

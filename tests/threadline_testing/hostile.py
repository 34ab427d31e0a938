"""Hostile texts, and what Slack would make of a text we post: for the tests that outside text
never pings, mentions, links in disguise or shows markup."""

import re

# (name, text) pairs: what an outsider (an email, an agent, a Zendesk error) may write.
HOSTILE = [
    ("channel", "<!channel> the printer is on fire"),
    ("here-labelled", "<!here|here> look"),
    ("everyone", "<!everyone>"),
    ("user", "ping <@U123> now"),
    ("user-labelled", "<@U123|boss>"),
    ("channel-link", "see <#C123|x>"),
    ("disguised-link", "<http://evil.example|click here>"),
    ("subteam", "<!subteam^S123|@oncall>"),
    ("date", "<!date^1392734382^{date}|Feb 18>"),
    ("escaped", "&lt;!channel&gt;"),
    ("double-escaped", "&amp;lt;!here&amp;gt;"),
    ("html-bold", "<b>bold</b>"),
    ("script", "<script>alert(1)</script>"),
    ("markdown", "**bold** _it_ [x](http://evil.example)"),
    ("code", "`<!channel>` and ```<!here>```"),
    ("ampersand", "Tom & Jerry <3"),
    ("unicode-lookalike", "\uff1c!channel\uff1e"),
]

_SEQUENCE = re.compile(r"<([^<>]*)>")


def control_sequences(text: str) -> list[str]:
    """What Slack reads as markup in `text`: the content of every `<…>`."""
    return _SEQUENCE.findall(text)


def pings_nobody(text: str, allowed_mentions: frozenset[str] = frozenset()) -> bool:
    """True when Slack, given `text`, would ping no one, mention no one outside `allowed_mentions`
    (Threadline's own), link no channel, and show no link whose label hides its address."""
    for seq in control_sequences(text):
        if seq.startswith("!"):
            return False
        if seq.startswith("@"):
            if seq[1:].split("|")[0] not in allowed_mentions:
                return False
            continue
        if seq.startswith("#"):
            return False
        if not re.match(r"(https?|mailto):", seq.partition("|")[0]):
            return False
    return True


def links(text: str) -> list[tuple[str, str]]:
    """(url, label) of every link markup in `text`."""
    found = []
    for seq in control_sequences(text):
        if re.match(r"(https?|mailto):", seq):
            url, _, label = seq.partition("|")
            found.append((url, label))
    return found

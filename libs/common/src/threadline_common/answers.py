"""Automatic answers: which of a channel's answer rules a question matches, and the message that
offers them (with similar solved conversations and Help Center articles) and asks whether it helped.

zendesk-sync posts the message (slack.post_answers); the router rewrites it after a press on one of
its buttons (slack.update_message), replacing the buttons with a line saying what was answered, as
`confirmation` does for the ticket's confirmation. Each button's value is the conversation's key:
the press is decided by that conversation's row. Built with slack_sdk's Block Kit models, which
check Slack's limits as they are built.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    MarkdownTextObject,
    SectionBlock,
)

from threadline_common import to_slack
from threadline_common.channels import AnswerRule

SOLVED = "threadline.answer_solved"
MORE = "threadline.answer_more"
ACTIONS_BLOCK = "threadline.answer_actions"
# The metadata event type of the post: found again after a crash instead of posted twice.
EVENT_TYPE = "threadline_answers"
SUGGESTIONS_SHOWN = 3  # per kind, as the issue asks


@functools.lru_cache(maxsize=512)
def _keyword_pattern(phrase: str) -> re.Pattern[str]:
    """A keyword or phrase as a whole-word, any-case pattern; the words of a phrase may be
    separated by any whitespace (`remote  access`, a line break)."""
    words = [re.escape(w) for w in phrase.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


@functools.lru_cache(maxsize=512)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)  # checked when the config was loaded (channels.AnswerRule)


def rule_matches(rule: AnswerRule, text: str) -> bool:
    if rule.regex is not None:
        return _regex(rule.regex).search(text) is not None
    return any(_keyword_pattern(k).search(text) for k in rule.keywords if k.split())


def matching_rules(rules: Iterable[AnswerRule], text: str, channel_id: str, *, first_message: bool) -> list[AnswerRule]:
    """The rules whose answer `text` gets in `channel_id`, in config order: `first_message`
    is whether it is a thread's top-level question (first_message_only rules answer only those)."""
    return [
        r
        for r in rules
        if (first_message or not r.first_message_only)
        and (not r.channels or channel_id in r.channels)
        and rule_matches(r, text)
    ]


# --- the message --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """A suggestion as the message shows it (zendesk-sync's suggestions.Suggestion)."""

    title: str
    url: str
    detail: str


def _suggestion_lines(found: Sequence[Found]) -> str:
    lines = []
    for f in found[:SUGGESTIONS_SHOWN]:
        # Titles and details are other people's text: escaped, so they can ping nobody.
        title = f.title.strip()[:150] or "(untitled)"
        label = to_slack.link(f.url, title)  # escapes the title; without a safe URL, the title alone
        detail = to_slack.escape(f.detail.strip()[:300])
        lines.append(f"• {label}" + (f"\n    _{detail}_" if detail else ""))
    return "\n".join(lines)


def text(answers: Sequence[str], similar: Sequence[Found], articles: Sequence[Found]) -> str:
    """The message's text: the notification, and what clients without blocks show."""
    parts = [":bulb: While a person picks this up, this may help:"]
    parts += answers
    if similar:
        parts.append(f"Similar solved conversations: {len(similar[:SUGGESTIONS_SHOWN])}")
    if articles:
        parts.append(f"Help Center articles: {len(articles[:SUGGESTIONS_SHOWN])}")
    return "\n".join(parts)[:3000]


def blocks(
    conversation: str, answers: Sequence[str], similar: Sequence[Found], articles: Sequence[Found]
) -> list[dict[str, Any]]:
    """The offer: each rule's answer (mrkdwn from the channel config: trusted), the similar solved
    conversations and Help Center articles (escaped), then the two buttons."""
    built: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=":bulb: *While a person picks this up, this may help:*"))
    ]
    built += [SectionBlock(text=MarkdownTextObject(text=a[:3000])) for a in answers]
    if similar:
        lines = _suggestion_lines(similar)
        built.append(SectionBlock(text=MarkdownTextObject(text=f"*Similar solved conversations*\n{lines}"[:3000])))
    if articles:
        lines = _suggestion_lines(articles)
        built.append(SectionBlock(text=MarkdownTextObject(text=f"*Help Center*\n{lines}"[:3000])))
    built.append(DividerBlock())
    built.append(
        ActionsBlock(
            block_id=ACTIONS_BLOCK,
            elements=[
                ButtonElement(text="This solved it", action_id=SOLVED, value=conversation, style="primary"),
                ButtonElement(text="I still need help", action_id=MORE, value=conversation),
            ],
        )
    )
    return [b.to_dict() for b in built]


def answered_line(action_id: str, user: str) -> str:
    """What replaces the buttons once the requester answered."""
    who = to_slack.mention(user) if to_slack.is_user_id(user) else "you"
    if action_id == SOLVED:
        return f":white_check_mark: Solved by this answer — thanks {who}"
    return f":raising_hand: {who} still needs help: a person is on the way."


def answered_blocks(shown: Sequence[dict[str, Any]], action_id: str, user: str) -> list[dict[str, Any]]:
    """The offer as it was posted (the pressed message's blocks), its buttons replaced by the
    line saying what the requester answered: nothing left to press."""
    kept = [b for b in shown if b.get("block_id") != ACTIONS_BLOCK]
    line = ContextBlock(elements=[MarkdownTextObject(text=answered_line(action_id, user))])
    return [*kept, line.to_dict()]

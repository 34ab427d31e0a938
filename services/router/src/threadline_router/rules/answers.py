"""Automatic answers (the channel's `answers`): what a new question is offered before a person
answers, and what the requester's feedback on it does.

- A customer's new top-level request (a channel's or a direct message's) whose text matches answer
  rules, or in a channel that searches similar solved conversations or the Help Center, gets one
  `slack.post_answers` command; zendesk-sync runs the searches and posts one message in the thread
  (or nothing, when nothing was found and no rule matched).
- A later message of the requester in the thread gets the answers of the rules with
  `first_message_only: false` it matches, never a rule's answer twice in one thread.
- "This solved it" by the requester solves the ticket once (tagged `threadline_answered` and
  `threadline_answer_<rule id>` for the rules offered), thanks them, and rewrites the offer's
  buttons into a line; "I still need help" says a person is coming (naming who is on call when
  the channel has on-call) and rewrites the buttons too. Only the requester may answer: anyone
  else hears so, ephemerally; a second press (a double click, a Slack retry) does nothing.
- Pressed before the ticket exists, "This solved it" is remembered and the ticket is solved as
  soon as its creation is reported (`solve_when_created`): the requester's word is not lost, and
  they are not asked to press again.

What the row remembers lives in its `seen` keys (threadline.links v4 has no field for it):
`answers-offered` (the question's offer was decided), `answer-rule:<id>` (each rule offered),
`answer-feedback:<solved|more>:<user>` (the one answer the requester gave), and
`answer-solve-pending` / `answer-solved:<ticket>` (the solve asked before / once the ticket existed).
"""

from __future__ import annotations

from threadline_common import answers, to_slack
from threadline_common.channels import AnswerRule, ChannelRules
from threadline_common.models import ActivityAnswer, CommandV4
from threadline_common.models.generated.commands_v4 import (
    AnswerRuleOffer,
    HelpCenter,
    SlackPostAnswers,
    ZendeskAnswerSolved,
)
from threadline_router.conversation import Conversation, external_id
from threadline_router.inbound import BlockAction
from threadline_router.rules import status_origin, team, ticket_actions
from threadline_router.rules.activity import activity
from threadline_router.rules.commands import NO_CAUSE, UNSTAMPED, notice, on_call, person, tell_person, update_message
from threadline_router.rules.decision import Context, Decision, ignore, mark_seen
from threadline_router.rules.fireman import name_fireman

OFFERED = "answers-offered"
RULE_PREFIX = "answer-rule:"
FEEDBACK_PREFIX = "answer-feedback:"
SOLVE_PENDING = "answer-solve-pending"
ANSWERED_TAG = "threadline_answered"
QUESTION_LIMIT = 4000  # slack.post_answers v4 bounds the question
NOT_YOURS = "Only the person who asked can answer this."


def _answers_author(rules: ChannelRules, user: str | None, ctx: Context) -> bool:
    """Whether `user`'s message may get automatic answers: a customer's, not a team member's."""
    return user is not None and not team.is_team_member(rules, user, ctx.groups)


def rule_tag(rule_id: str) -> str:
    return f"threadline_answer_{rule_id.replace('-', '_')}"


def offered_rules(state: Conversation) -> list[str]:
    return [k[len(RULE_PREFIX) :] for k in state.seen if k.startswith(RULE_PREFIX)]


def feedback_of(state: Conversation) -> str | None:
    """`solved` or `more` once the requester answered an offer, else None."""
    key = next((k for k in state.seen if k.startswith(FEEDBACK_PREFIX)), None)
    return key[len(FEEDBACK_PREFIX) :].split(":", 1)[0] if key else None


def offer(
    state: Conversation, rules: ChannelRules, text: str, ts: str, author: str | None, ctx: Context
) -> tuple[Conversation, list[CommandV4]]:
    """The offer a message of the requester gets in its thread: the conversation's top-level
    question (ts == the thread's) gets every matching rule and the searches, a later message only
    the rules that answer follow-ups; never a rule twice, never the question twice."""
    config = rules.answers
    if config is None or state.requester_slack_id is None or author != state.requester_slack_id:
        return state, []
    if not _answers_author(rules, author, ctx):
        return state, []
    first = ts == state.thread_ts
    if first and OFFERED in state.seen:
        return state, []  # the question was already offered its answers (a redelivery)
    already = set(offered_rules(state))
    matched = [
        r
        for r in answers.matching_rules(config.rules, text, state.channel_id, first_message=first)
        if r.id not in already
    ]
    searches = first and config.searches
    if not matched and not searches:
        return state, []
    for key in ([OFFERED] if first else []) + [f"{RULE_PREFIX}{r.id}" for r in matched]:
        state = mark_seen(state, key, ctx.now)
    assert state.thread_ts is not None
    command = _post_answers(state, text, ts, matched, similar=first and config.similar_solved, rules=rules)
    return state, [command]


def _post_answers(
    state: Conversation, text: str, ts: str, matched: list[AnswerRule], *, similar: bool, rules: ChannelRules
) -> SlackPostAnswers:
    config = rules.answers
    assert config is not None and state.thread_ts is not None
    first = ts == state.thread_ts
    help_center = config.help_center if first else None
    return SlackPostAnswers(
        schema_version=4,
        # One offer per message: the question's, or a follow-up's (its ts).
        command_id=f"answers:{state.conversation_id}" + ("" if first else f":{ts}"),
        conversation_id=state.conversation_id,
        issued_at=UNSTAMPED,
        cause=NO_CAUSE,
        team_id=state.team_id,
        channel_id=state.channel_id,
        thread_ts=state.thread_ts,
        requester=state.requester_slack_id,
        question=text[:QUESTION_LIMIT],
        rules=[AnswerRuleOffer(id=r.id, answer=r.answer) for r in matched],
        similar_solved=similar,
        help_center=HelpCenter(locale=help_center.locale) if help_center is not None else None,
    )


# --- feedback -----------------------------------------------------------------------------------


def on_feedback(event: BlockAction, state: Conversation | None, ctx: Context) -> Decision:
    """A press on "This solved it" or "I still need help"."""
    key = event.value.split("|", 1)[0]
    if state is None:
        return Decision(None, _tell(event, key, "Threadline no longer knows this conversation."))
    if event.user != state.requester_slack_id:
        return Decision(state, _tell(event, state.conversation_id, NOT_YOURS), reason="not the requester")
    given = feedback_of(state)
    if given is not None:
        return ignore(state, f"the requester already answered ({given})")  # a double click, a retry
    rules = ctx.channels.rules_for(state.channel_id)
    solved = event.action_id == answers.SOLVED
    state = mark_seen(state, f"{FEEDBACK_PREFIX}{'solved' if solved else 'more'}:{event.user}", ctx.now)
    commands: list[CommandV4] = []
    mention = to_slack.mention(event.user)
    if solved:
        if state.ticket_id is None:
            state = mark_seen(state, SOLVE_PENDING, ctx.now)  # solved once the ticket exists
        else:
            state, solve = _solve(state, event.user, ctx)
            commands += solve
        thanks = (
            f":white_check_mark: Glad that helped, {mention}! I marked this request solved; reply here if it returns."
        )
        commands.append(notice(state, f"answer-thanks:{state.conversation_id}", thanks))
    else:
        coming = f":raising_hand: Thanks, {mention}: a person is coming to help."
        commands.append(notice(state, f"answer-more:{state.conversation_id}", coming))
        if rules is not None and rules.on_call is not None and state.thread_ts is not None:
            named = on_call(state, rules, f"answer-more-oncall:{state.conversation_id}", "ticket_opened", None)
            named.assign = False  # naming who is coming; the ticket's assignment was decided when it opened
            commands.append(named)
        elif rules is not None:
            fireman = name_fireman(state, rules, ctx, f"answer-more-fireman:{state.conversation_id}", "ticket_opened")
            commands += [fireman] if fireman is not None else []
    commands += _rewrite(event, state)
    said = activity(
        "answer_feedback",
        f"answer-feedback:{state.conversation_id}",  # one per conversation: its one answer
        state,
        occurred_at=ctx.now,
        actor_id=event.user,
        role="requester",
        source="slack",
        answer=ActivityAnswer(rule_ids=offered_rules(state), feedback="solved" if solved else "more"),
    )
    return Decision(state, commands, [said])


def solve_when_created(state: Conversation, ctx: Context) -> tuple[Conversation, list[CommandV4]]:
    """The solve the requester asked for before the ticket existed, now that it does."""
    if SOLVE_PENDING not in state.seen or state.ticket_id is None:
        return state, []
    requester = state.requester_slack_id or ""
    return _solve(state, requester, ctx)


def _solve(state: Conversation, user: str, ctx: Context) -> tuple[Conversation, list[CommandV4]]:
    done = f"answer-solved:{state.ticket_id}"
    if done in state.seen or ticket_actions.is_solved(state):
        return state, []
    ids = offered_rules(state)
    command = ZendeskAnswerSolved(
        schema_version=4,
        command_id=f"answer-solved:{state.conversation_id}:{state.ticket_id}",
        conversation_id=state.conversation_id,
        issued_at=UNSTAMPED,
        cause=NO_CAUSE,
        external_id=external_id(state),
        ticket_id=state.ticket_id,
        author=person(user),
        rule_ids=ids,
        tags=[ANSWERED_TAG, *[rule_tag(i) for i in ids]],
    )
    # What the confirmation shows (solved, by whom) and what a second solve finds done.
    state = mark_seen(state, done, ctx.now)
    state = mark_seen(state, ticket_actions.solve_key(state), ctx.now)
    state = status_origin.asked(state, "solved", "answer", user, ctx.now)
    return mark_seen(state, f"solved-by:{state.ticket_id}:{user}", ctx.now), [command]


def _rewrite(event: BlockAction, state: Conversation) -> list[CommandV4]:
    """The offer the press was on, its buttons replaced by what the requester answered."""
    if not (event.channel_id and event.message_ts) or event.container != "message":
        return []
    shown = event.message.get("blocks") if isinstance(event.message, dict) else None
    blocks = answers.answered_blocks(shown if isinstance(shown, list) else [], event.action_id, event.user)
    return [
        update_message(
            state.conversation_id,
            f"update:{event.channel_id}:{event.message_ts}:{event.action_id}",
            event.channel_id,
            event.message_ts,
            answers.answered_line(event.action_id, event.user),
            blocks,
        )
    ]


def _tell(event: BlockAction, conversation_id: str, text: str) -> list[CommandV4]:
    told = tell_person(
        conversation_id,
        f"press-answer:{event.action_id}:{event.event_id}",
        event.user,
        text,
        "refusal",
        event.response_url,
        event.channel_id,
        event.thread_ts,
    )
    return [told] if told is not None else []

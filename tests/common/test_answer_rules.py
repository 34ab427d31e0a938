"""Automatic answer rules: which questions they match (whole words, any case, phrases, regular
expressions, first message only, channels), and a bad rule stopping the start with its key path."""

from __future__ import annotations

import pytest

from threadline_common import answers
from threadline_common.channels import ChannelConfigError, parse_channels

pytestmark = pytest.mark.unit


def config(rules, **more):
    return parse_channels({"channels": {"C1": {"answers": {"rules": rules, **more}}}})


def matched(rules, text, channel="C1", first=True):
    cfg = config(rules)
    assert cfg.channels["C1"].answers is not None
    found = answers.matching_rules(cfg.channels["C1"].answers.rules, text, channel, first_message=first)
    return [r.id for r in found]


VPN = {"id": "vpn", "keywords": ["vpn", "remote access"], "answer": "See the VPN guide."}


@pytest.mark.parametrize(
    ("text", "hit"),
    [
        ("My VPN is down", True),
        ("vpn?", True),
        ("(Vpn) again", True),
        ("I need REMOTE   ACCESS", True),  # a phrase, whatever the spaces and case
        ("remote\naccess please", True),
        ("the vpnclient crashes", False),  # whole words only
        ("openvpn", False),
        ("remote accessibility", False),
        ("remote, access", False),  # a phrase's words are next to each other
        ("", False),
    ],
)
def test_keywords_match_whole_words_and_phrases_in_any_case(text, hit):
    assert matched([VPN], text) == (["vpn"] if hit else [])


def test_a_regex_matches_as_written():
    rule = {"id": "password", "regex": r"(?i)\bpassword\s+reset\b", "answer": "Use the reset page."}
    assert matched([rule], "Need a Password  reset") == ["password"]
    assert matched([rule], "password resets are broken") == []
    case_sensitive = {"id": "err", "regex": r"ERR-\d{3}", "answer": "Known error."}
    assert matched([case_sensitive], "I get ERR-404") == ["err"]
    assert matched([case_sensitive], "I get err-404") == []


def test_first_message_only_rules_answer_only_the_question_by_default():
    follow_up = {"id": "logs", "keywords": ["logs"], "answer": "Attach the logs.", "first_message_only": False}
    assert matched([VPN, follow_up], "vpn logs", first=True) == ["vpn", "logs"]
    assert matched([VPN, follow_up], "vpn logs", first=False) == ["logs"]


def test_a_rule_limited_to_channels_answers_only_there():
    rule = {**VPN, "channels": ["C2"]}
    assert matched([rule], "vpn", channel="C1") == []
    assert matched([rule], "vpn", channel="C2") == ["vpn"]


def test_several_matching_rules_all_answer_in_config_order():
    rules = [
        {"id": "b-rule", "keywords": ["printer"], "answer": "B"},
        {"id": "a-rule", "regex": "(?i)toner", "answer": "A"},
        {"id": "c-rule", "keywords": ["scanner"], "answer": "C"},
    ]
    assert matched(rules, "Printer says toner low") == ["b-rule", "a-rule"]
    assert matched(rules, "the coffee machine") == []


def test_rules_in_defaults_apply_to_every_channel_unless_a_channel_sets_its_own():
    cfg = parse_channels(
        {
            "defaults": {"answers": {"rules": [VPN], "similar_solved": True}},
            "channels": {"C1": {}, "C2": {"answers": {"rules": [], "help_center": {"locale": "en-us"}}}},
        }
    )
    one, two = cfg.channels["C1"].answers, cfg.channels["C2"].answers
    assert one is not None and [r.id for r in one.rules] == ["vpn"] and one.similar_solved and one.searches
    assert two is not None and two.rules == () and two.help_center is not None and two.searches


@pytest.mark.parametrize(
    ("rules", "path", "why"),
    [
        (
            [VPN, VPN, {"id": "bad", "regex": "(unclosed", "answer": "x"}],
            "channels.C1.answers.rules[2].regex",
            "not a valid regular expression",
        ),
        (
            [{"id": "both", "keywords": ["a"], "regex": "a", "answer": "x"}],
            "channels.C1.answers.rules[0]",
            "exactly one",
        ),
        ([{"id": "none", "answer": "x"}], "channels.C1.answers.rules[0]", "exactly one"),
        ([{"id": "Not An Id", "keywords": ["a"], "answer": "x"}], "channels.C1.answers.rules[0].id", "pattern"),
        ([{"id": "x", "keywords": ["a"]}], "channels.C1.answers.rules[0].answer", "required"),
        (
            [{"id": "x", "keywords": ["a"], "answer": "x", "channels": ["general"]}],
            "channels.C1.answers.rules[0].channels[0]",
            "pattern",
        ),
    ],
)
def test_a_bad_rule_fails_the_start_naming_its_key_path(rules, path, why):
    with pytest.raises(ChannelConfigError) as raised:
        config(rules)
    message = str(raised.value)
    assert f"{path}:" in message and why in message
    assert "\n" not in message


def test_duplicate_rule_ids_are_refused():
    with pytest.raises(ChannelConfigError, match=r"channels\.C1\.answers: .*unique: vpn"):
        config([VPN, VPN])


def test_an_unknown_answers_key_is_refused():
    with pytest.raises(ChannelConfigError, match=r"channels\.C1\.answers\.similar: Extra inputs"):
        config([VPN], similar=True)

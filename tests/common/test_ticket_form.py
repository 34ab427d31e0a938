"""The ticket form's validator (ingest answers Slack with its lines before anything is stored)
and the channel setting it reads."""

from __future__ import annotations

import pytest
from threadline_testing.interactions import submission

from threadline_common import ticket_form
from threadline_common.channels import ChannelConfigError, parse_channels

pytestmark = pytest.mark.unit

FORM = [
    {"id": 1, "label": "Region", "kind": "select", "options": ["emea", "amer"], "required": True},
    {"id": 2, "label": "Seats", "kind": "number", "options": [], "required": False},
]


def view(form=FORM):
    meta = ticket_form.metadata(conversation="T1:C1:1.2", channel="C1", ts="1.2", requester="UALICE", form=form)
    return ticket_form.ticket_modal(meta, subject="Printer", description="It is on fire")


def problems(**filled):
    return ticket_form.problems(submission(view(), "UALICE", filled)["view"])


def test_a_complete_form_has_no_problems_and_reads_as_the_ticket():
    payload = submission(view(), "UALICE", {"field:1": "emea", "field:2": "12", "type": "incident"})
    assert ticket_form.problems(payload["view"]) == {}
    values = ticket_form.view_values(payload["view"])
    form = ticket_form.submitted(values, ticket_form.view_metadata(payload["view"]))
    assert form == ticket_form.TicketForm("Printer", "It is on fire", "normal", "incident", ((1, "emea"), (2, "12")))


@pytest.mark.parametrize(
    ("filled", "expected"),
    [
        ({"subject": "   ", "field:1": "emea"}, {"subject": "A ticket needs a subject."}),
        ({"subject": "x" * 151, "field:1": "emea"}, {"subject": "Keep the subject under 150 characters (it has 151)."}),
        ({"field:1": "emea", "field:2": "twelve"}, {"field:2": "Seats must be a number."}),
        ({"field:1": "emea", "field:2": "nan"}, {"field:2": "Seats must be a number."}),
        ({"field:1": "apac"}, {"field:1": "Choose one of: emea, amer."}),
        ({}, {"field:1": "Region is required."}),
        ({"field:1": "emea", "priority": "asap"}, {"priority": "Choose one of: low, normal, high, urgent."}),
        ({"field:1": "emea", "type": "rant"}, {"type": "Choose one of: question, incident, problem, task."}),
    ],
)
def test_each_invalid_field_gets_one_line_under_it(filled, expected):
    assert problems(**filled) == expected


def test_what_is_not_a_ticket_form_goes_ahead_and_a_malformed_view_is_not_a_crash():
    assert ticket_form.submission_answer({"type": "block_actions"}) is None
    assert ticket_form.submission_answer({"type": "view_submission", "view": "nonsense"}) is None
    broken = {"callback_id": "threadline.open_ticket", "private_metadata": '{"form": [{"x": 1}]}', "state": []}
    assert ticket_form.submission_answer({"type": "view_submission", "view": broken}) is None
    other_app = {"callback_id": "someone_else", "state": {"values": {}}}
    assert ticket_form.submission_answer({"type": "view_submission", "view": other_app}) is None
    answer = ticket_form.submission_answer(submission(view(), "UALICE", {"subject": ""}))
    assert answer == {
        "response_action": "errors",
        "errors": {"subject": "A ticket needs a subject.", "field:1": "Region is required."},
    }


def test_the_ticket_number_is_read_from_a_number_or_a_zendesk_link():
    assert ticket_form.ticket_number("42") == 42
    assert ticket_form.ticket_number(" #42 ") == 42
    assert ticket_form.ticket_number("https://acme.zendesk.com/agent/tickets/42") == 42
    assert ticket_form.ticket_number("<https://acme.zendesk.com/agent/tickets/42|#42>") == 42
    assert ticket_form.ticket_number("the printer one") is None
    assert ticket_form.ticket_number(None) is None


def test_the_channels_form_setting_is_checked_at_start():
    config = parse_channels(
        {"channels": {"C1": {"zendesk": {"form": [{"id": 1, "label": "Region", "kind": "select", "options": ["a"]}]}}}}
    )
    rules = config.rules_for("C1")
    assert rules is not None and ticket_form.form_spec(rules.zendesk.form) == [
        {"id": 1, "label": "Region", "kind": "select", "options": ["a"], "required": False}
    ]
    with pytest.raises(ChannelConfigError, match="select without options"):
        parse_channels({"channels": {"C1": {"zendesk": {"form": [{"id": 1, "label": "R", "kind": "select"}]}}}})
    with pytest.raises(ChannelConfigError, match=r"zendesk\.form\[0\]\.kind"):
        parse_channels({"channels": {"C1": {"zendesk": {"form": [{"id": 1, "label": "R", "kind": "date"}]}}}})


def test_the_modal_fits_in_slacks_private_metadata_with_a_full_form():
    form = [
        {
            "id": 100 + i,
            "label": f"Field {i}",
            "kind": "select",
            "options": [f"opt{j}" for j in range(5)],
            "required": True,
        }
        for i in range(10)
    ]
    built = view(form)
    assert len(built["private_metadata"]) <= 3000
    assert len(built["blocks"]) == 14


def test_a_form_too_large_for_a_modal_is_refused_at_start():
    huge = [{"id": i, "label": f"Field {i}", "kind": "select", "options": ["x" * 70] * 3} for i in range(1, 20)]
    with pytest.raises(ChannelConfigError, match="too large for a Slack modal"):
        parse_channels({"channels": {"C1": {"zendesk": {"form": huge}}}})

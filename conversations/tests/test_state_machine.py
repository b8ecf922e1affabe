"""The lead state machine: the transition table, audit rows and the database's guarantees."""

import pytest
from django.db import IntegrityError, connection, transaction

from conversations import transitions
from conversations.models import (
    CLOSED_STATUSES,
    DORMANT_STATUSES,
    OPEN_STATUSES,
    TRANSITIONS,
    Lead,
    Status,
    StatusChange,
)

# A literal copy of DESIGN.md §3, so that drift in either the model or the contract fails.
DESIGN_TABLE = """
| start_qualifying | NEW | QUALIFYING |
| complete_qualification | QUALIFYING, TOUR_CONVERSION_OFFERED | PENDING_APPROVAL |
| flag_follow_up | QUALIFYING | NEEDS_FOLLOW_UP |
| give_up | QUALIFYING | NEEDS_MANUAL_FOLLOW_UP |
| offer_tour | QUALIFYING | TOUR_CONVERSION_OFFERED |
| waitlist | QUALIFYING, TOUR_CONVERSION_OFFERED | WAITLISTED |
| hand_over | QUALIFYING, PENDING_APPROVAL, NEEDS_FOLLOW_UP, TOUR_CONVERSION_OFFERED, AWAITING_DEPOSIT, DEPOSIT_PAID, BOOKING_LINK_SENT, BOOKING_PENDING, COLLECTING_TIME_WINDOWS | NEEDS_ARTIST_REPLY |
| resume | NEEDS_ARTIST_REPLY | the status it was handed over from (QUALIFYING re-asks the current question) |
| approve | PENDING_APPROVAL, NEEDS_FOLLOW_UP, NEEDS_ARTIST_REPLY | AWAITING_DEPOSIT |
| reject | every open status | REJECTED |
| expire_deposit | AWAITING_DEPOSIT | DEPOSIT_EXPIRED |
| mark_deposit_paid | AWAITING_DEPOSIT, NEEDS_ARTIST_REPLY, DEPOSIT_EXPIRED | DEPOSIT_PAID |
| send_booking_link | AWAITING_DEPOSIT, DEPOSIT_PAID | BOOKING_LINK_SENT |
| start_booking | DEPOSIT_PAID, BOOKING_LINK_SENT, COLLECTING_TIME_WINDOWS, NEEDS_ARTIST_REPLY | BOOKING_PENDING |
| collect_time_windows | BOOKING_PENDING, AWAITING_DEPOSIT | COLLECTING_TIME_WINDOWS |
| mark_booked | BOOKING_PENDING | BOOKED |
| cancel | DEPOSIT_PAID, BOOKING_LINK_SENT, BOOKING_PENDING, BOOKED | CANCELLED |
| opt_out | every status except OPTOUT | OPTOUT |
| abandon | QUALIFYING, TOUR_CONVERSION_OFFERED | ABANDONED |
| mark_stale | PENDING_APPROVAL, NEEDS_FOLLOW_UP, NEEDS_ARTIST_REPLY, DEPOSIT_EXPIRED, BOOKING_LINK_SENT, COLLECTING_TIME_WINDOWS | STALE |
| restart | OPTOUT, ABANDONED, STALE | NEW |
"""
DESIGN_OPEN = set(Status.values) - {
    "BOOKED", "REJECTED", "WAITLISTED", "CANCELLED", "NEEDS_MANUAL_FOLLOW_UP",
    "OPTOUT", "ABANDONED", "STALE",
}  # fmt: skip


def design_transitions():
    table = {}
    for line in DESIGN_TABLE.strip().splitlines():
        name, sources, target = (cell.strip() for cell in line.strip("|").split("|"))
        if sources == "every open status":
            source_set = DESIGN_OPEN
        elif sources == "every status except OPTOUT":
            source_set = set(Status.values) - {"OPTOUT"}
        else:
            source_set = {s.strip() for s in sources.split(",")}
        table[name] = (source_set, target)
    return table


def expected_target(lead, name):
    target = TRANSITIONS[name][1]
    return lead.handed_over_from() if isinstance(target, tuple) else target


class Rollback(Exception):
    pass


def test_there_are_twenty_statuses_in_three_groups():
    assert len(Status.values) == 20
    assert set(OPEN_STATUSES) == DESIGN_OPEN
    assert set(OPEN_STATUSES) | set(CLOSED_STATUSES) | set(DORMANT_STATUSES) == set(Status.values)


def test_model_table_matches_design_table():
    design = design_transitions()
    assert set(design) == set(TRANSITIONS)
    for name, (sources, target) in TRANSITIONS.items():
        assert set(sources) == design[name][0], name
        if name == "resume":
            assert set(target) == set(TRANSITIONS["hand_over"][0])
        else:
            assert target == design[name][1], name


def test_every_transition_method_declares_the_table_sources():
    for name, (sources, _) in TRANSITIONS.items():
        meta = getattr(Lead, name)._django_fsm
        assert set(meta.transitions) == set(sources), name


@pytest.mark.parametrize("status", Status.values)
def test_each_pair_of_status_and_transition_is_allowed_exactly_as_the_table_says(status, make_lead):
    lead = make_lead(status)
    for name, (sources, _) in TRANSITIONS.items():
        before = StatusChange.objects.filter(lead=lead).count()
        if status in sources:
            target = expected_target(lead, name)
            try:
                with transaction.atomic():
                    moved = transitions.transition(lead, name, reason="table", actor="test")
                    assert moved.status == target, name
                    changes = StatusChange.objects.filter(lead=lead).order_by("-id")
                    assert changes.count() == before + 1, name
                    change = changes.first()
                    assert (change.from_status, change.to_status, change.transition) == (
                        status,
                        target,
                        name,
                    )
                    raise Rollback
            except Rollback:
                pass
        else:
            with pytest.raises(transitions.TransitionNotAllowed):
                transitions.transition(lead, name, reason="table", actor="test")
            lead.refresh_from_db()
            assert lead.status == status, name
            assert StatusChange.objects.filter(lead=lead).count() == before, name


def test_an_unknown_transition_name_is_not_allowed(make_lead):
    lead = make_lead()
    with pytest.raises(transitions.TransitionNotAllowed):
        transitions.transition(lead, "delete_everything", reason="", actor="test")


def test_status_change_records_reason_and_actor(make_lead):
    lead = make_lead(Status.QUALIFYING)
    transitions.transition(lead, "hand_over", reason="asked for a human", actor="client")
    change = lead.status_changes.last()
    assert (change.reason, change.actor, change.transition) == (
        "asked for a human",
        "client",
        "hand_over",
    )


def test_resume_returns_to_the_status_the_handover_came_from(make_lead):
    lead = make_lead(Status.AWAITING_DEPOSIT)
    lead = transitions.transition(lead, "hand_over", reason="refund question", actor="bot")
    lead = transitions.transition(lead, "resume", reason="answered", actor="artist")
    assert lead.status == Status.AWAITING_DEPOSIT


def test_status_cannot_be_assigned_directly(make_lead):
    lead = make_lead()
    with pytest.raises(AttributeError):
        lead.status = "BOOKED"


def test_refresh_from_db_works_on_the_protected_field(make_lead):
    lead = make_lead()
    transitions.transition(lead, "start_qualifying", reason="", actor="test")
    lead.refresh_from_db()
    assert lead.status == Status.QUALIFYING


def test_an_unknown_status_is_refused_by_the_check_constraint(make_client):
    client = make_client()
    with (
        pytest.raises(IntegrityError, match="lead_status_known"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO conversations_lead (client_id, status, current_step, parse_failures,"
            " handover_reason, currency, city, country_code, region, size_category,"
            " created_at, updated_at) VALUES (%s, 'HACKED', 0, '{}', '', '', '', '', '', '',"
            " now(), now())",
            [client.pk],
        )


def test_a_client_has_at_most_one_open_lead(make_lead):
    lead = make_lead(Status.QUALIFYING)
    with pytest.raises(IntegrityError, match="lead_one_open_per_client"), transaction.atomic():
        Lead.objects.create(client=lead.client)


def test_a_closed_lead_does_not_block_a_new_one(make_lead):
    lead = make_lead(Status.REJECTED)
    assert Lead.objects.create(client=lead.client).status == Status.NEW


def test_advance_step_moves_only_from_the_expected_step(make_lead):
    lead = make_lead(Status.QUALIFYING)
    first = transitions.advance_step(lead.pk, 0)
    second = transitions.advance_step(lead.pk, 0)
    assert (bool(first), first.current_step) == (True, 1)
    assert (bool(second), second.reason, second.current_step) == (
        False,
        "step_already_advanced",
        1,
    )

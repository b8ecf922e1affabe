"""manage.py sweep_stale: quiet consultations are abandoned, idle leads go stale, nothing else.

The clock is frozen: every lead is brought to its status at T0 (time-machine), and the sweep
runs at an explicit `now` measured from T0.
"""

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from io import StringIO

import psycopg
import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection

from conversations import transitions
from conversations.flows import sweeps
from conversations.models import Lead, Message, Status, StatusChange, StudioSettings
from conversations.tests.servers import database_url_for

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
ABANDON = timedelta(hours=48)
STALE = timedelta(days=3)
STALE_STATUSES = [
    Status.PENDING_APPROVAL,
    Status.NEEDS_FOLLOW_UP,
    Status.NEEDS_ARTIST_REPLY,
    Status.DEPOSIT_EXPIRED,
    Status.BOOKING_LINK_SENT,
    Status.COLLECTING_TIME_WINDOWS,
]


@pytest.fixture
def lead_at_t0(make_lead):
    """A lead whose every status change happened at T0, with the message times given."""

    def make(status, **fields):
        with time_machine.travel(T0, tick=False):
            return make_lead(status, **fields)

    return make


def sweep_at(now, **thresholds):
    return sweeps.sweep(sweeps.rules(**thresholds), now=now)


def status_of(lead):
    return Lead.objects.values_list("status", flat=True).get(pk=lead.pk)


@contextmanager
def locked_elsewhere(lead):
    """Another real connection holds SELECT … FOR UPDATE on the lead, as a webhook would."""
    with psycopg.connect(database_url_for(connection.settings_dict["NAME"])) as other:
        other.execute("SELECT id FROM conversations_lead WHERE id = %s FOR UPDATE", [lead.pk])
        yield
        other.rollback()


# -- abandon -------------------------------------------------------------------------------


def test_a_consultation_quiet_one_second_short_of_48_hours_is_left_alone(lead_at_t0):
    lead = lead_at_t0(Status.QUALIFYING, last_inbound_at=T0)
    outcomes = sweep_at(T0 + ABANDON - SECOND)
    assert status_of(lead) == Status.QUALIFYING
    assert outcomes["abandon"] == 0


def test_a_consultation_quiet_for_48_hours_and_a_second_is_abandoned(lead_at_t0):
    lead = lead_at_t0(Status.QUALIFYING, last_inbound_at=T0)
    outcomes = sweep_at(T0 + ABANDON + SECOND)
    assert status_of(lead) == Status.ABANDONED
    assert outcomes["abandon"] == 1
    change = StatusChange.objects.filter(lead=lead).last()
    assert (change.transition, change.actor) == ("abandon", "sweep_stale")
    assert change.reason == "No message from the client for 2 days"


def test_an_unanswered_tour_offer_is_abandoned(lead_at_t0):
    lead = lead_at_t0(Status.TOUR_CONVERSION_OFFERED)
    sweep_at(T0 + ABANDON + SECOND)
    assert status_of(lead) == Status.ABANDONED


def test_the_quiet_counts_from_the_clients_last_message(lead_at_t0):
    lead = lead_at_t0(Status.QUALIFYING, last_inbound_at=T0 + timedelta(hours=10))
    sweep_at(T0 + ABANDON + SECOND)
    assert status_of(lead) == Status.QUALIFYING
    sweep_at(T0 + timedelta(hours=10) + ABANDON + SECOND)
    assert status_of(lead) == Status.ABANDONED


def test_the_bots_own_messages_do_not_keep_a_consultation_open(lead_at_t0):
    lead = lead_at_t0(
        Status.QUALIFYING, last_inbound_at=T0, last_outbound_at=T0 + timedelta(hours=36)
    )
    sweep_at(T0 + ABANDON + SECOND)
    assert status_of(lead) == Status.ABANDONED


def test_a_consultation_resumed_after_a_handover_counts_from_the_resume(lead_at_t0):
    lead = lead_at_t0(Status.NEEDS_ARTIST_REPLY, last_inbound_at=T0 - timedelta(days=5))
    resumed_at = T0 + timedelta(days=1)
    with time_machine.travel(resumed_at, tick=False):
        transitions.transition(lead, "resume", reason="artist", actor="artist")
    sweep_at(resumed_at + ABANDON - SECOND)
    assert status_of(lead) == Status.QUALIFYING
    sweep_at(resumed_at + ABANDON + SECOND)
    assert status_of(lead) == Status.ABANDONED


# -- mark_stale ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", STALE_STATUSES)
def test_a_waiting_lead_idle_one_second_short_of_3_days_is_left_alone(lead_at_t0, status):
    lead = lead_at_t0(status, last_inbound_at=T0, last_outbound_at=T0)
    sweep_at(T0 + STALE - SECOND)
    assert status_of(lead) == status


@pytest.mark.parametrize("status", STALE_STATUSES)
def test_a_waiting_lead_idle_for_3_days_and_a_second_goes_stale(lead_at_t0, status):
    lead = lead_at_t0(status, last_inbound_at=T0, last_outbound_at=T0)
    outcomes = sweep_at(T0 + STALE + SECOND)
    assert status_of(lead) == Status.STALE
    assert outcomes["mark_stale"] == 1
    assert StatusChange.objects.filter(lead=lead).last().reason == "No activity for 3 days"


def test_a_message_sent_to_the_client_keeps_a_waiting_lead_fresh(lead_at_t0):
    sent_at = T0 + timedelta(days=1)
    lead = lead_at_t0(Status.PENDING_APPROVAL, last_inbound_at=T0, last_outbound_at=sent_at)
    sweep_at(T0 + STALE + SECOND)
    assert status_of(lead) == Status.PENDING_APPROVAL
    sweep_at(sent_at + STALE + SECOND)
    assert status_of(lead) == Status.STALE


def test_a_handover_the_artist_answered_yesterday_is_not_stale(lead_at_t0):
    lead = lead_at_t0(
        Status.NEEDS_ARTIST_REPLY, last_inbound_at=T0, last_outbound_at=T0 + timedelta(days=3)
    )
    sweep_at(T0 + STALE + timedelta(days=1))
    assert status_of(lead) == Status.NEEDS_ARTIST_REPLY


def test_a_handover_nobody_answered_for_3_days_goes_stale(lead_at_t0):
    lead = lead_at_t0(Status.NEEDS_ARTIST_REPLY, last_inbound_at=T0)
    sweep_at(T0 + STALE + SECOND)
    assert status_of(lead) == Status.STALE


@pytest.mark.parametrize(
    "status",
    [
        Status.NEW,
        Status.AWAITING_DEPOSIT,
        Status.DEPOSIT_PAID,
        Status.BOOKING_PENDING,
        Status.BOOKED,
        Status.REJECTED,
        Status.OPTOUT,
        Status.ABANDONED,
        Status.STALE,
    ],
)
def test_leads_in_other_statuses_are_never_swept(lead_at_t0, status):
    lead = lead_at_t0(status)
    outcomes = sweep_at(T0 + timedelta(days=365))
    assert status_of(lead) == status
    assert sum(outcomes.values()) == 0


def test_an_opted_out_clients_lead_is_left_as_it_is(lead_at_t0, make_client):
    client = make_client(opted_out_at=T0)
    lead = lead_at_t0(Status.OPTOUT, client=client)
    sweep_at(T0 + timedelta(days=365))
    assert status_of(lead) == Status.OPTOUT


def test_the_sweep_sends_nobody_anything(lead_at_t0):
    lead_at_t0(Status.QUALIFYING)
    lead_at_t0(Status.PENDING_APPROVAL)
    sweep_at(T0 + timedelta(days=30))
    assert not Message.objects.exists()


# -- runs ----------------------------------------------------------------------------------


def test_a_second_run_changes_nothing(lead_at_t0):
    abandoned = lead_at_t0(Status.QUALIFYING)
    stale = lead_at_t0(Status.PENDING_APPROVAL)
    now = T0 + timedelta(days=4)
    first = sweep_at(now)
    changes = StatusChange.objects.count()
    second = sweep_at(now)
    assert (first["abandon"], first["mark_stale"]) == (1, 1)
    assert sum(second.values()) == 0
    assert StatusChange.objects.count() == changes
    assert (status_of(abandoned), status_of(stale)) == (Status.ABANDONED, Status.STALE)


def test_candidates_are_read_batch_by_batch_and_every_one_is_swept(lead_at_t0):
    leads = [lead_at_t0(Status.QUALIFYING) for _ in range(5)]
    outcomes = sweeps.sweep(sweeps.rules(), now=T0 + ABANDON + SECOND, batch_size=2)
    assert outcomes["abandon"] == 5
    assert {status_of(lead) for lead in leads} == {Status.ABANDONED}


def test_a_lead_that_changed_after_it_was_read_is_left_alone(lead_at_t0):
    lead = lead_at_t0(Status.QUALIFYING)
    now = T0 + ABANDON + SECOND
    (rule, _) = sweeps.rules()
    [candidate] = sweeps.candidates(rule, now)
    Lead.objects.filter(pk=lead.pk).update(last_inbound_at=now)  # the client wrote meanwhile
    assert sweeps.sweep_one(candidate, now) == sweeps.MOVED_ON
    assert status_of(lead) == Status.QUALIFYING


def test_the_thresholds_are_the_studios(lead_at_t0):
    studio = StudioSettings.load()
    studio.abandon_after = timedelta(hours=6)
    studio.stale_after = timedelta(hours=30)
    studio.save()
    qualifying = lead_at_t0(Status.QUALIFYING)
    waiting = lead_at_t0(Status.PENDING_APPROVAL)
    sweep_at(T0 + timedelta(hours=6) + SECOND)
    assert (status_of(qualifying), status_of(waiting)) == (
        Status.ABANDONED,
        Status.PENDING_APPROVAL,
    )
    sweep_at(T0 + timedelta(hours=30) + SECOND)
    assert status_of(waiting) == Status.STALE


# -- the command ---------------------------------------------------------------------------


def run_command(*args, at):
    out = StringIO()
    with time_machine.travel(at, tick=False):
        call_command("sweep_stale", *args, stdout=out)
    return out.getvalue()


def test_the_flags_override_the_studios_thresholds(lead_at_t0):
    qualifying = lead_at_t0(Status.QUALIFYING)
    waiting = lead_at_t0(Status.PENDING_APPROVAL)
    run_command(
        "--abandon-after-hours=1", "--stale-after-hours=2", at=T0 + timedelta(hours=1) - SECOND
    )
    assert status_of(qualifying) == Status.QUALIFYING
    run_command(
        "--abandon-after-hours=1", "--stale-after-hours=2", at=T0 + timedelta(hours=2, seconds=1)
    )
    assert (status_of(qualifying), status_of(waiting)) == (Status.ABANDONED, Status.STALE)


def test_a_threshold_flag_must_be_a_positive_number_of_hours():
    with pytest.raises(CommandError, match="positive number of hours"):
        call_command("sweep_stale", "--abandon-after-hours=0", stdout=StringIO())


def test_a_dry_run_lists_what_it_would_do_and_changes_nothing(lead_at_t0):
    qualifying = lead_at_t0(Status.QUALIFYING)
    waiting = lead_at_t0(Status.NEEDS_FOLLOW_UP)
    output = run_command("--dry-run", at=T0 + timedelta(days=4))
    assert f"would abandon lead #{qualifying.pk} (QUALIFYING, quiet since" in output
    assert f"would mark_stale lead #{waiting.pk} (NEEDS_FOLLOW_UP, quiet since" in output
    assert "sweep_stale: would abandon 1, would mark stale 1" in output
    assert (status_of(qualifying), status_of(waiting)) == (
        Status.QUALIFYING,
        Status.NEEDS_FOLLOW_UP,
    )
    assert StatusChange.objects.filter(transition__in=["abandon", "mark_stale"]).count() == 0


def test_the_command_prints_a_one_line_summary_even_with_nothing_to_do(db):
    output = run_command(at=T0)
    assert output == (
        "sweep_stale: abandoned 0, marked stale 0, skipped (locked) 0, changed meanwhile 0, "
        "failed 0\n"
    )


def test_a_lead_the_database_refuses_to_change_fails_alone_and_the_command_exits_non_zero(
    lead_at_t0,
):
    broken = lead_at_t0(Status.QUALIFYING)
    healthy = lead_at_t0(Status.QUALIFYING)
    with connection.cursor() as cursor:  # DDL is transactional: gone when the test ends
        cursor.execute(
            "CREATE FUNCTION refuse_lead() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'lead % is broken', NEW.id; END $$ LANGUAGE plpgsql"
        )
        cursor.execute(
            "CREATE TRIGGER refuse_lead BEFORE UPDATE ON conversations_lead FOR EACH ROW "
            f"WHEN (NEW.id = {broken.pk}) EXECUTE FUNCTION refuse_lead()"
        )
    out = StringIO()
    with (
        time_machine.travel(T0 + ABANDON + SECOND, tick=False),
        pytest.raises(CommandError, match="1 lead"),
    ):
        call_command("sweep_stale", stdout=out)
    assert "abandoned 1" in out.getvalue() and "failed 1" in out.getvalue()
    assert (status_of(broken), status_of(healthy)) == (Status.QUALIFYING, Status.ABANDONED)


# -- concurrency ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_lead_locked_by_another_connection_is_skipped_then_swept_next_run(lead_at_t0):
    locked = lead_at_t0(Status.QUALIFYING)
    free = lead_at_t0(Status.QUALIFYING)
    now = T0 + ABANDON + SECOND
    with locked_elsewhere(locked):
        during = sweep_at(now)
        assert status_of(locked) == Status.QUALIFYING
    after = sweep_at(now)
    assert (during["abandon"], during[sweeps.BUSY]) == (1, 1)
    assert (status_of(free), status_of(locked)) == (Status.ABANDONED, Status.ABANDONED)
    assert (after["abandon"], after[sweeps.BUSY]) == (1, 0)
    assert StatusChange.objects.filter(lead=locked, transition="abandon").count() == 1

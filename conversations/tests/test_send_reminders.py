"""manage.py send_reminders: a nudge at 12 h of silence and a last one at 36 h, once each.

The clock is frozen: every lead reaches QUALIFYING at T0 with the client's last message then
(time-machine), and reminders run at an explicit `now` measured from T0.
"""

import threading
import time
from datetime import UTC, datetime, timedelta
from io import StringIO

import psycopg
import pytest
import time_machine
from django.core.management import call_command
from django.db import close_old_connections, connection

from conversations import transitions
from conversations.flows import reminders
from conversations.models import (
    Direction,
    Lead,
    Message,
    MessageStatus,
    Question,
    Reminder,
    Status,
    StudioSettings,
)
from conversations.tests.servers import database_url_for
from conversations.tests.threads import run_at_once

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
NUDGE = timedelta(hours=12)
LAST = timedelta(hours=36)
ABANDON = timedelta(hours=48)


@pytest.fixture
def quiet_client(make_lead, make_client):
    """A QUALIFYING lead whose client last wrote at T0 (and whose status changed then)."""

    def make(status=Status.QUALIFYING, *, step=0, **client_fields):
        client = make_client(**client_fields)
        with time_machine.travel(T0, tick=False):
            lead = make_lead(status, client=client, current_step=step, last_inbound_at=T0)
            Message.objects.create(
                client=client,
                lead=lead,
                channel=client.channel,
                direction=Direction.IN,
                external_id=f"wamid.{lead.pk}",
                body="Hi",
                status=MessageStatus.PROCESSED,
            )
        return lead

    return make


def remind_at(now, **thresholds):
    return reminders.send_reminders(reminders.windows(**thresholds), now=now)


def sent_to(lead):
    return list(Message.objects.outbound().filter(lead=lead).order_by("id"))


def script():
    return list(Question.objects.script())


# -- the nudge -----------------------------------------------------------------------------


def test_no_nudge_one_second_short_of_12_hours(quiet_client):
    lead = quiet_client()
    outcomes = remind_at(T0 + NUDGE - SECOND)
    assert sent_to(lead) == []
    assert sum(outcomes.values()) == 0


def test_a_nudge_12_hours_and_a_second_into_the_silence(quiet_client):
    lead = quiet_client()
    outcomes = remind_at(T0 + NUDGE + SECOND)
    [message] = sent_to(lead)
    reminder = Reminder.objects.get(lead=lead)
    assert (reminder.kind, reminder.message) == (Reminder.Kind.NUDGE, message)
    assert outcomes[Reminder.Kind.NUDGE] == 1
    assert message.status == MessageStatus.QUEUED
    assert message.payload["purpose"] == "reminder"
    assert "template" not in message.payload  # inside the 24-hour window: plain text


def test_the_nudge_restates_the_current_question(quiet_client):
    lead = quiet_client(step=3)
    remind_at(T0 + NUDGE + SECOND)
    [message] = sent_to(lead)
    assert message.body.endswith(script()[3].prompt)


def test_the_nudge_opens_with_the_artists_own_words_when_set(quiet_client):
    studio = StudioSettings.load()
    studio.reminder_text = "Hey, it's Mia's assistant again!"
    studio.save()
    lead = quiet_client()
    remind_at(T0 + NUDGE + SECOND)
    [message] = sent_to(lead)
    assert message.body == f"Hey, it's Mia's assistant again!\n\n{script()[0].prompt}"


def test_a_lead_gets_one_nudge_however_often_the_command_runs(quiet_client):
    lead = quiet_client()
    remind_at(T0 + NUDGE + SECOND)
    second = remind_at(T0 + NUDGE + timedelta(hours=1))
    assert len(sent_to(lead)) == 1
    assert sum(second.values()) == 0


def test_a_client_who_answered_after_the_nudge_is_not_nudged_again(quiet_client):
    lead = quiet_client()
    remind_at(T0 + NUDGE + SECOND)
    Lead.objects.filter(pk=lead.pk).update(last_inbound_at=T0 + NUDGE + timedelta(hours=1))
    remind_at(T0 + 2 * NUDGE + timedelta(hours=2))
    assert len(sent_to(lead)) == 1


# -- the last reminder ---------------------------------------------------------------------


def test_no_last_reminder_one_second_short_of_36_hours(quiet_client, settings):
    settings.REMINDER_TEMPLATE = "leadbot_reminder"
    lead = quiet_client()
    remind_at(T0 + NUDGE + SECOND)
    outcomes = remind_at(T0 + LAST - SECOND)
    assert len(sent_to(lead)) == 1
    assert sum(outcomes.values()) == 0


def test_the_last_reminder_36_hours_and_a_second_in_goes_as_the_template(quiet_client, settings):
    settings.REMINDER_TEMPLATE = "leadbot_reminder"
    lead = quiet_client()
    remind_at(T0 + NUDGE + SECOND)
    outcomes = remind_at(T0 + LAST + SECOND)
    _nudge, last = sent_to(lead)
    assert outcomes[Reminder.Kind.LAST] == 1
    assert Reminder.objects.get(lead=lead, kind=Reminder.Kind.LAST).message == last
    template = last.payload["template"]
    assert template["name"] == "leadbot_reminder"
    [parameter] = template["components"][0]["parameters"]
    assert "\n" not in parameter["text"]
    assert parameter["text"].endswith(script()[0].prompt)


def test_outside_the_24_hour_window_without_a_template_no_reminder_goes(quiet_client, settings):
    settings.REMINDER_TEMPLATE = ""
    lead = quiet_client()
    outcomes = remind_at(T0 + LAST + SECOND)
    assert sent_to(lead) == []
    assert not Reminder.objects.exists()
    assert outcomes[reminders.OUTSIDE_WINDOW] == 1


def test_an_sms_client_gets_the_last_reminder_as_text(quiet_client, settings):
    settings.REMINDER_TEMPLATE = ""
    lead = quiet_client(channel="sms")
    remind_at(T0 + LAST + SECOND)
    [message] = sent_to(lead)
    assert "template" not in message.payload
    assert Reminder.objects.get(lead=lead).kind == Reminder.Kind.LAST


def test_a_late_run_sends_only_the_last_reminder(quiet_client):
    lead = quiet_client(channel="sms")
    remind_at(T0 + timedelta(hours=40))
    assert list(Reminder.objects.filter(lead=lead).values_list("kind", flat=True)) == ["last"]


def test_no_reminder_once_the_lead_is_due_to_be_abandoned(quiet_client):
    lead = quiet_client(channel="sms")
    remind_at(T0 + ABANDON + SECOND)
    assert sent_to(lead) == []


# -- who never gets one --------------------------------------------------------------------


def test_an_opted_out_client_gets_no_reminder(quiet_client):
    lead = quiet_client(opted_out_at=T0)
    remind_at(T0 + NUDGE + SECOND)
    remind_at(T0 + LAST + SECOND)
    assert sent_to(lead) == []
    assert not Reminder.objects.exists()


def test_a_client_waiting_on_the_artist_gets_no_reminder(quiet_client):
    lead = quiet_client(Status.NEEDS_ARTIST_REPLY)
    remind_at(T0 + NUDGE + SECOND)
    remind_at(T0 + LAST + SECOND)
    assert sent_to(lead) == []


def test_after_a_handover_the_silence_counts_from_the_resume(quiet_client):
    lead = quiet_client(Status.NEEDS_ARTIST_REPLY, channel="sms")
    resumed_at = T0 + timedelta(days=2)
    with time_machine.travel(resumed_at, tick=False):
        transitions.transition(lead, "resume", reason="artist", actor="artist")
    before = len(sent_to(lead))  # the resume re-asks the question
    remind_at(resumed_at + NUDGE - SECOND)
    assert len(sent_to(lead)) == before
    remind_at(resumed_at + NUDGE + SECOND)
    assert Reminder.objects.get(lead=lead).kind == Reminder.Kind.NUDGE


def test_in_panic_mode_no_reminder_goes(quiet_client, settings):
    settings.PANIC_MODE = True
    lead = quiet_client()
    assert remind_at(T0 + NUDGE + SECOND) == {reminders.PAUSED: 1}
    assert sent_to(lead) == []


# -- the command ---------------------------------------------------------------------------


def run_command(*args, at):
    out = StringIO()
    with time_machine.travel(at, tick=False):
        call_command("send_reminders", *args, stdout=out)
    return out.getvalue()


def test_a_dry_run_lists_the_reminders_and_sends_nothing(quiet_client):
    lead = quiet_client()
    output = run_command("--dry-run", at=T0 + NUDGE + SECOND)
    assert f"would send the nudge reminder to lead #{lead.pk}" in output
    assert "send_reminders: would send 1 nudge(s), 0 last reminder(s)" in output
    assert sent_to(lead) == []
    assert not Reminder.objects.exists()


def test_the_flags_override_the_studios_thresholds(quiet_client):
    lead = quiet_client()
    output = run_command("--after-hours=2", at=T0 + timedelta(hours=2, seconds=1))
    assert "sent 1 nudge(s)" in output
    assert len(sent_to(lead)) == 1


# -- races ---------------------------------------------------------------------------------


def run_in_threads(count, target):
    """Run `target` in `count` threads at once, each on its own database connection."""
    results = run_at_once(count, lambda i: target())
    errors = [result for result in results if isinstance(result, Exception)]
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_send_one_reminder(quiet_client, seeded_script):
    lead = quiet_client()
    run_in_threads(2, lambda: remind_at(T0 + NUDGE + SECOND))
    assert Reminder.objects.filter(lead=lead).count() == 1
    assert len(sent_to(lead)) == 1


@pytest.mark.django_db(transaction=True)
def test_a_reminder_a_concurrent_run_commits_first_rolls_ours_back_entirely(
    quiet_client, seeded_script
):
    lead = quiet_client()
    with psycopg.connect(database_url_for(connection.settings_dict["NAME"])) as other:
        # A writer of the same nudge that has not committed: ours cannot see it yet. It holds
        # no lock on the lead, so ours gets past the lead lock to the unique index. (Its
        # foreign-key check, deferred to COMMIT, would wait on our lead lock: a writer that
        # skips the lead is what this stands for, so its triggers are off.)
        other.execute("SET session_replication_role = replica")
        other.execute(
            "INSERT INTO conversations_reminder (lead_id, kind, created_at) VALUES (%s, %s, %s)",
            [lead.pk, "nudge", T0 + NUDGE],
        )
        results = []

        def ours():
            try:
                results.append(remind_at(T0 + NUDGE + SECOND))
            finally:
                connection.close()

        thread = threading.Thread(target=ours)
        thread.start()
        wait_for_a_lock_wait()  # ours is blocked on the unique index
        other.commit()
        thread.join(30)
    close_old_connections()
    assert results[0][reminders.ALREADY_SENT] == 1
    assert Reminder.objects.filter(lead=lead).count() == 1
    assert sent_to(lead) == []  # our queued message rolled back with our Reminder row


def wait_for_a_lock_wait(timeout=10):
    """Until some session of the test database waits on a lock (seen from a third connection)."""
    url = database_url_for(connection.settings_dict["NAME"])
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as observer:
        while time.monotonic() < deadline:
            waiting = observer.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()"
            ).fetchone()[0]
            if waiting:
                return
            time.sleep(0.02)
    raise AssertionError("the reminder never waited on the uncommitted one")

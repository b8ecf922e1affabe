"""Settings in the artist's units, the script editor, and the failures page (an Artist user)."""

from datetime import timedelta

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from conversations.admin.studio import StudioSettingsForm
from conversations.models import Message, MessageStatus, Question, StudioSettings
from conversations.tests.artists import make_staff
from conversations.tests.conftest import text_payload


@pytest.fixture
def artist(client, db):
    client.force_login(make_staff("ink", artist=True))
    return client


SETTINGS = reverse("admin:conversations_studiosettings_changelist")


def settings_page(artist):
    return artist.get(SETTINGS, follow=True)


def test_settings_are_one_page_not_a_one_row_list(artist):
    response = artist.get(SETTINGS)
    assert response.url == reverse("admin:conversations_studiosettings_change", args=[1])


def test_settings_show_pounds_hours_days_and_lists_in_fieldsets(artist):
    html = settings_page(artist).content.decode()
    for heading in ("Pricing", "Deposits", "Area and tours", "Reminders and cooldowns", "Wording"):
        assert f">{heading}<" in html
    assert "Minimum budget, UK (GBP)" in html
    assert 'name="min_budget_uk_minor" value="400"' in html
    assert 'name="holding_reply_cooldown_0" value="6"' in html
    assert 'name="stale_after_0" value="3"' in html
    assert '<option value="days" selected>' in html
    assert "ribs\nhand\n" in html
    assert "06:00:00" not in html and "40000" not in html


def test_the_settings_page_saves_the_artists_units_as_stored_units(artist):
    # What the page shows, as the browser would post it back.
    shown = StudioSettingsForm(instance=StudioSettings.load())
    data = {field.name: field.value() for field in shown if not isinstance(field.value(), list)}
    data.update(
        {
            "min_budget_uk_minor": "450.50",
            "deposit_small_minor": "120",
            "hard_placements": "ribs, neck\nfeet",
            "approval_message": "Yes! Deposit details next.",
        }
    )
    for name in ("holding_reply_cooldown", "acknowledgement_cooldown", "reminder_after"):
        data |= {f"{name}_0": "2", f"{name}_1": "hours"}
    for name in ("abandon_after", "stale_after", "last_reminder_after"):
        data |= {f"{name}_0": "1.5", f"{name}_1": "days"}
    response = artist.post(reverse("admin:conversations_studiosettings_change", args=[1]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    saved = model_to_dict(StudioSettings.load())
    assert saved["min_budget_uk_minor"] == 45050
    assert saved["deposit_small_minor"] == 12000
    assert saved["hard_placements"] == ["ribs", "neck", "feet"]
    assert saved["holding_reply_cooldown"] == timedelta(hours=2)
    assert saved["stale_after"] == timedelta(hours=36)
    assert saved["approval_message"] == "Yes! Deposit details next."


# -- the consultation script ----------------------------------------------------------------

SCRIPT = reverse("admin:conversations_question_changelist")


def test_the_script_editor_lists_questions_in_order_with_their_labels(artist, seeded_script):
    rows = list(artist.get(SCRIPT).context["cl"].result_list)
    assert [q.key for q in rows] == [q.key for q in seeded_script]
    html = artist.get(SCRIPT).content.decode()
    assert html.index(">Idea<") < html.index(">Placement<") < html.index(">Budget<")


def test_the_artist_moves_a_question_earlier(artist, seeded_script):
    third = seeded_script[2]
    artist.post(reverse("admin:conversations_question_move", args=[third.pk, "up"]))
    keys = list(Question.objects.script().values_list("key", flat=True))
    assert keys[:3] == [seeded_script[0].key, third.key, seeded_script[1].key]
    assert list(Question.objects.script().values_list("order", flat=True))[:3] == [10, 20, 30]


def test_a_get_on_the_move_url_moves_nothing(artist, seeded_script):
    artist.get(reverse("admin:conversations_question_move", args=[seeded_script[2].pk, "up"]))
    assert list(Question.objects.script()) == seeded_script


# -- failures -------------------------------------------------------------------------------

FAILURES = reverse("admin:conversations_message_failures")


@pytest.fixture
def failed_inbound(post_whatsapp):
    post_whatsapp(text_payload("Hi", message_id="wamid.hi", timestamp=1_700_000_000))
    Question.objects.filter(key="idea").update(kind="bogus")
    post_whatsapp(text_payload("A rose", message_id="wamid.rose", timestamp=1_700_000_001))
    Question.objects.filter(key="idea").update(kind="text")
    return Message.objects.get(external_id="wamid.rose")


@pytest.fixture
def dead_outbound(make_client):
    person = make_client()
    return Message.objects.create(
        client=person,
        channel="whatsapp",
        direction="out",
        body="Your deposit link",
        status=MessageStatus.DEAD,
        attempts=5,
        last_error="Graph API 500",
    )


def test_the_failures_page_lists_failed_inbound_and_dead_outbound(
    artist, failed_inbound, dead_outbound
):
    html = artist.get(FAILURES).content.decode()
    assert "A rose" in html and 'value="replay"' in html
    assert "Your deposit link" in html and "Graph API 500" in html and 'value="retry"' in html


def test_replay_from_the_failures_page_processes_the_message(artist, failed_inbound):
    response = artist.post(FAILURES, {"message": failed_inbound.pk, "do": "replay"}, follow=True)
    failed_inbound.refresh_from_db()
    assert failed_inbound.status == MessageStatus.PROCESSED
    assert [str(m) for m in response.context["messages"]] == ["Replayed 1 of 1 failed message(s)."]


def test_retry_queues_a_dead_message_for_a_fresh_round_of_attempts(artist, dead_outbound):
    artist.post(FAILURES, {"message": dead_outbound.pk, "do": "retry"})
    dead_outbound.refresh_from_db()
    assert (dead_outbound.status, dead_outbound.attempts) == (MessageStatus.QUEUED, 0)
    assert DBTaskResult.objects.filter(args_kwargs__args=[dead_outbound.pk]).count() == 1


def test_a_dead_message_to_a_client_who_opted_out_is_not_retried(artist, dead_outbound):
    dead_outbound.client.opted_out_at = timezone.now()
    dead_outbound.client.save(update_fields=["opted_out_at"])
    response = artist.post(FAILURES, {"message": dead_outbound.pk, "do": "retry"}, follow=True)
    dead_outbound.refresh_from_db()
    assert dead_outbound.status == MessageStatus.DEAD
    assert not DBTaskResult.objects.exists()
    assert [str(m) for m in response.context["messages"]] == [
        "Queued 0 of 1 dead message(s) to send again."
    ]


def test_retry_from_the_message_list(artist, dead_outbound):
    artist.post(
        reverse("admin:conversations_message_changelist"),
        {"action": "retry", "_selected_action": [dead_outbound.pk]},
    )
    dead_outbound.refresh_from_db()
    assert dead_outbound.status == MessageStatus.QUEUED


def test_the_message_list_shows_the_text(artist, dead_outbound):
    html = artist.get(reverse("admin:conversations_message_changelist")).content.decode()
    assert "Your deposit link" in html

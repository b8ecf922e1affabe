"""The per-process cache of the script and the studio settings never outlives an edit."""

import pytest

from conversations.models import Message, Question, StudioSettings
from conversations.tests.conftest import text_payload

pytestmark = pytest.mark.django_db


def last_reply():
    return Message.objects.outbound().order_by("-id").first().body


def test_a_question_saved_through_the_model_is_asked_in_the_next_message(
    post_whatsapp, seeded_script
):
    post_whatsapp(text_payload("Hi", wa_id="447700900101", message_id="wamid.a1"))
    idea = Question.objects.get(key="idea")
    idea.prompt = "What would you love to wear for ever?"
    idea.save()

    post_whatsapp(text_payload("Hi", wa_id="447700900102", message_id="wamid.b1"))

    assert "What would you love to wear for ever?" in last_reply()


def test_a_question_changed_by_a_queryset_update_is_asked_in_the_next_message(
    post_whatsapp, seeded_script
):
    post_whatsapp(text_payload("Hi", wa_id="447700900101", message_id="wamid.a1"))
    Question.objects.filter(key="idea").update(prompt="Tell me the idea, in your words")

    post_whatsapp(text_payload("Hi", wa_id="447700900102", message_id="wamid.b1"))

    assert "Tell me the idea, in your words" in last_reply()


def test_a_question_deactivated_is_skipped_in_the_next_message(post_whatsapp, seeded_script):
    post_whatsapp(text_payload("Hi", wa_id="447700900101", message_id="wamid.a1"))
    idea = Question.objects.get(key="idea")
    Question.objects.filter(pk=idea.pk).update(active=False)

    post_whatsapp(text_payload("Hi", wa_id="447700900102", message_id="wamid.b1"))

    assert idea.prompt not in last_reply()
    assert seeded_script[1].prompt in last_reply()


def test_every_write_to_the_script_or_the_settings_moves_the_version_on(db, seeded_script):
    from django.db import connection

    def version():
        with connection.cursor() as cursor:
            cursor.execute("SELECT version FROM conversations_configversion")
            return cursor.fetchone()[0]

    seen = [version()]
    Question.objects.filter(key="idea").update(example="A koi")
    seen.append(version())
    settings_row = StudioSettings.load()
    settings_row.budget_floor = 80
    settings_row.save()
    seen.append(version())
    Question.objects.filter(key="idea").delete()
    seen.append(version())

    assert len(set(seen)) == len(seen)


def test_a_studio_setting_saved_is_used_by_the_next_message(post_whatsapp, seeded_script):
    from conversations.flows.script import CONFIG

    StudioSettings.load()
    post_whatsapp(text_payload("Hi", wa_id="447700900101", message_id="wamid.a1"))
    settings_row = StudioSettings.load()
    settings_row.currency = "EUR"
    settings_row.save()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version FROM conversations_configversion")
        (version,) = cursor.fetchone()

    assert CONFIG.studio(version).currency == "EUR"

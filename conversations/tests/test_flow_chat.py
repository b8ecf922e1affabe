"""`manage.py chat PHONE`: the terminal chat goes through the real inbound path."""

import io

import pytest
from django.core.management import call_command

from conversations.models import Lead, Message, Status

pytestmark = pytest.mark.django_db


def chat(lines, phone="+447700900777"):
    out = io.StringIO()
    call_command("chat", phone, "--name", "Sam", stdin=io.StringIO(lines), stdout=out)
    return out.getvalue()


def test_a_chat_prints_each_reply_and_the_status_then_ends_on_eof(seeded_script):
    output = chat("Hello!\n\nA swallow on my hand\n")
    assert "Hi Sam!" in output
    assert seeded_script[0].prompt in output
    # "on my hand" answers the placement too, so the size comes next.
    assert seeded_script[2].prompt in output
    assert output.count("QUALIFYING") == 2  # one status line per message; the blank is skipped
    lead = Lead.objects.get(client__address="447700900777")
    assert lead.status == Status.QUALIFYING
    assert lead.current_step == 2
    inbound = Message.objects.inbound().filter(lead=lead)
    assert inbound.count() == 2
    assert all(m.external_id.startswith("chat-") for m in inbound)


def test_a_second_session_continues_the_same_lead(seeded_script):
    chat("hi\n")
    output = chat("A rose\n")
    assert seeded_script[1].prompt in output
    assert Lead.objects.count() == 1

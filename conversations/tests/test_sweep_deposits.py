"""manage.py sweep_expired_deposits: lapsed deposit links expire, the client hears how to renew."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from bookings import deposits
from bookings.models import Deposit
from conversations.flows import artist
from conversations.models import Lead, Message, Status
from conversations.tests.conftest import run_worker
from conversations.tests.test_flow_support import Chat


@pytest.fixture
def awaiting(stripe_api, make_lead, seeded_script):
    lead = make_lead(Status.PENDING_APPROVAL)
    artist.act(lead, "approve", reason="", actor="artist")
    run_worker()
    return Lead.objects.get(pk=lead.pk)


def lapse(lead, by=timedelta(minutes=1)):
    Deposit.objects.filter(lead=lead).update(expires_at=timezone.now() - by)


def sweep(*args):
    out = StringIO()
    call_command("sweep_expired_deposits", *args, stdout=out)
    return out.getvalue()


def to_client(lead, purpose):
    return Message.objects.outbound().filter(lead=lead, payload__purpose=purpose)


def test_a_lapsed_link_expires_and_the_client_is_told_how_to_renew(awaiting):
    lapse(awaiting)
    assert "expired 1," in sweep()
    assert Lead.objects.get(pk=awaiting.pk).status == Status.DEPOSIT_EXPIRED
    assert Deposit.objects.get(lead=awaiting).status == Deposit.Status.EXPIRED
    (notice,) = to_client(awaiting, "deposit_expired")
    assert "reply here" in notice.body


def test_a_link_still_valid_is_left_alone(awaiting):
    assert "expired 0," in sweep()
    assert Lead.objects.get(pk=awaiting.pk).status == Status.AWAITING_DEPOSIT


def test_a_second_run_changes_nothing(awaiting):
    lapse(awaiting)
    sweep()
    assert "expired 0," in sweep()
    assert to_client(awaiting, "deposit_expired").count() == 1


def test_a_dry_run_lists_and_changes_nothing(awaiting):
    lapse(awaiting)
    output = sweep("--dry-run")
    assert f"lead #{awaiting.pk}" in output and "would expire 1" in output
    assert Lead.objects.get(pk=awaiting.pk).status == Status.AWAITING_DEPOSIT
    assert Deposit.objects.get(lead=awaiting).status == Deposit.Status.OPEN


def test_a_paid_deposit_is_never_expired(awaiting):
    deposits.mark_paid(Deposit.objects.get(lead=awaiting), via="test")
    lapse(awaiting)
    assert "expired 0," in sweep()


def test_after_expiry_the_client_asks_and_gets_a_fresh_link(awaiting, stripe_api):
    lapse(awaiting)
    sweep()
    chat = Chat(Lead.objects.get(pk=awaiting.pk).client)
    assert chat.send("can I have a new link please") == []  # made by the task, after commit
    run_worker()
    first, second = stripe_api.created
    (fresh,) = to_client(awaiting, "deposit_link").exclude(body__contains=first["url"])
    assert second["url"] in fresh.body and "fresh link" in fresh.body
    assert Deposit.objects.filter(lead=awaiting).count() == 2
    # Asking again while it is live sends the same link, not a third session.
    assert second["url"] in chat.say("sorry, where was it?")
    assert len(stripe_api.created) == 2

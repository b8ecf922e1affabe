"""After the deposit: slots offered, one chosen and booked; other times; booking link; cancel."""

import pytest
from django.utils import timezone

from bookings.models import Availability, Booking, Deposit, Reservation
from bookings.slots import book_slot, suggest_slots
from bookings.tests.stripe_fake import session_event, signed
from conversations.flows import artist, booking
from conversations.models import Answer, Lead, Message, Status, StatusChange, StudioSettings
from conversations.tests.conftest import run_worker, text_payload
from conversations.tests.test_flow_support import Chat

ARTIST = "447700900999"
WA_ID = "447700900500"


@pytest.fixture
def stripe_api(stripe_api, settings):
    settings.ARTIST_PHONE = ARTIST  # the artist's notes are counted here
    return stripe_api


@pytest.fixture
def no_stripe(settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.ARTIST_PHONE = ARTIST


def post_stripe(client, body):
    raw, header = signed(body)
    return client.post(
        "/webhooks/stripe/", raw, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )


def to_client(lead, purpose):
    return Message.objects.outbound().filter(lead=lead, payload__purpose=purpose)


def artist_notes():
    return Message.objects.outbound().filter(client__address=ARTIST)


def fresh(lead):
    return Lead.objects.get(pk=lead.pk)


@pytest.fixture
def offered(no_stripe, make_lead, seeded_script):
    """A lead whose deposit the artist marked paid: four slots on offer (BOOKING_PENDING)."""
    lead = make_lead(Status.PENDING_APPROVAL)
    artist.act(lead, "approve", reason="", actor="artist")
    artist.act(fresh(lead), "mark_deposit_paid", reason="bank transfer", actor="artist")
    return fresh(lead)


# -- the acceptance path ---------------------------------------------------------------------


def test_the_full_path_through_the_signed_webhooks_books_once(
    stripe_api, make_lead, make_client, seeded_script, post_whatsapp, client
):
    lead = make_lead(Status.PENDING_APPROVAL, client=make_client(address=WA_ID))
    artist.act(lead, "approve", reason="Lovely idea", actor="artist")
    run_worker()
    (link,) = to_client(lead, "deposit_link")
    (session,) = stripe_api.created
    assert session["url"] in link.body

    paid = session_event(session)
    responses = [
        post_stripe(client, session_event(session, "checkout.session.expired")),
        post_stripe(client, paid),
        post_stripe(client, paid),
    ]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert [r.json()["outcome"] for r in responses] == [
        "deposit_expired",
        "paid_late",
        "duplicate_event",
    ]
    assert fresh(lead).status == Status.BOOKING_PENDING
    assert to_client(lead, "slot_offer").count() == 1
    second = booking.offered_slots(lead)[1]

    assert post_whatsapp(text_payload("option 2", wa_id=WA_ID)).status_code == 200
    run_worker()

    assert fresh(lead).status == Status.BOOKED
    assert Deposit.objects.filter(lead=lead).count() == 1
    assert Deposit.objects.get(lead=lead).status == Deposit.Status.PAID
    (booked,) = Booking.objects.filter(lead=lead)
    assert (booked.start, booked.end, booked.state) == (second.start, second.end, "booked")
    assert to_client(lead, "booking_confirmed").count() == 1
    (note,) = artist_notes()
    assert "booked" in note.body and "£150" in note.body
    assert StatusChange.objects.filter(lead=lead, transition="mark_deposit_paid").count() == 1
    assert not Message.objects.outbound().filter(status="queued").exists()


# -- choosing a slot -------------------------------------------------------------------------


def test_the_offer_lists_the_free_slots_in_the_artists_time_zone(offered):
    (offer,) = to_client(offered, "slot_offer")
    options = booking.offered_slots(offered)
    assert len(options) == 4
    for number, slot in enumerate(options, start=1):
        assert f"{number}. {booking.format_slot(slot)}" in offer.body


def test_a_number_books_that_slot_and_confirms_once(offered):
    chat = Chat(offered.client)
    third = booking.offered_slots(offered)[2]
    (confirmation,) = chat.send("3")
    assert confirmation.payload["purpose"] == "booking_confirmed"
    assert booking.format_slot(third) in confirmation.body
    (note,) = artist_notes()
    assert booking.format_slot(third) in note.body
    assert fresh(offered).status == Status.BOOKED
    assert Booking.objects.get(lead=offered).start == third.start


def test_an_unclear_choice_asks_again_and_the_third_hands_over(offered):
    chat = Chat(offered.client)
    assert "number from 1 to 4" in chat.say("1 or 2")
    assert "number from 1 to 4" in chat.say("the 9th")
    chat.send("2, 4")
    assert fresh(offered).status == Status.NEEDS_ARTIST_REPLY
    assert not Booking.objects.filter(lead=offered).exists()


def test_a_slot_taken_meanwhile_is_not_booked_and_the_free_ones_are_offered(offered, make_lead):
    second = booking.offered_slots(offered)[1]
    book_slot(make_lead().pk, second)
    reply = Chat(offered.client).say("2")
    assert "just been taken" in reply
    assert fresh(offered).status == Status.BOOKING_PENDING
    assert second not in booking.offered_slots(offered)
    assert not Booking.objects.filter(lead=offered).exists()


# -- no slot fits ----------------------------------------------------------------------------


@pytest.mark.parametrize("reply", ["none", "no", "Nope!", "neither", "can't make any of them"])
def test_a_reply_meaning_none_of_them_asks_for_other_times(offered, reply):
    Chat(offered.client).send(reply)
    assert fresh(offered).status == Status.COLLECTING_TIME_WINDOWS


def test_none_of_them_asks_for_a_few_times(offered):
    reply = Chat(offered.client).say("none of those work for me sorry")
    assert "two or three days and times" in reply
    assert fresh(offered).status == Status.COLLECTING_TIME_WINDOWS


def test_the_times_given_are_kept_passed_to_the_artist_and_booking_resumes(offered):
    chat = Chat(offered.client)
    chat.send("none")
    (noted,) = chat.send("Monday morning or Friday after 2pm")
    assert noted.payload["purpose"] == "time_windows_noted"
    answer = Answer.objects.get(lead=offered, question_key="time_windows")
    assert answer.text == "Monday morning or Friday after 2pm" and len(answer.value) == 2
    (note,) = artist_notes()
    assert "Monday morning or Friday after 2pm" in note.body
    assert fresh(offered).status == Status.BOOKING_PENDING
    assert booking.offered_slots(offered) == []  # the artist finds the time


def test_times_that_cannot_be_read_are_asked_again_then_handed_over(offered):
    chat = Chat(offered.client)
    chat.send("none")
    assert "couldn't read that" in chat.say("dunno")
    assert "couldn't read that" in chat.say("no idea mate")
    chat.send("hmm")
    assert fresh(offered).status == Status.NEEDS_ARTIST_REPLY


def test_with_no_free_slot_the_client_is_asked_for_times_at_once(no_stripe, make_lead):
    Availability.load().working_hours.all().delete()
    lead = make_lead(Status.PENDING_APPROVAL)
    artist.act(lead, "approve", reason="", actor="artist")
    artist.act(fresh(lead), "mark_deposit_paid", reason="", actor="artist")
    assert fresh(lead).status == Status.COLLECTING_TIME_WINDOWS
    assert to_client(lead, "ask_time_windows").count() == 1


# -- the artist's steps ----------------------------------------------------------------------


def test_the_booking_link_path_sends_the_artists_own_page(no_stripe, make_lead, seeded_script):
    StudioSettings.objects.update_or_create(
        pk=1, defaults={"booking_url": "https://book.example/me"}
    )
    lead = make_lead(Status.DEPOSIT_PAID)
    artist.act(lead, "send_booking_link", reason="", actor="artist")
    (link,) = to_client(lead, "booking_link")
    assert "https://book.example/me" in link.body
    assert Chat(lead.client).say("where do I book?") == link.body  # the same link again
    artist.act(fresh(lead), "start_booking", reason="booked on my page", actor="artist")
    assert fresh(lead).status == Status.BOOKING_PENDING
    assert not to_client(lead, "slot_offer").exists()


def test_marking_booked_without_a_session_in_the_diary_is_refused(offered):
    with pytest.raises(booking.NothingToBook):
        artist.act(offered, "mark_booked", reason="", actor="artist")
    assert fresh(offered).status == Status.BOOKING_PENDING


def test_the_artist_marks_booked_a_session_they_put_in_the_diary(offered):
    slot = booking.offered_slots(offered)[0]
    book_slot(offered.pk, slot)
    artist.act(offered, "mark_booked", reason="", actor="artist")
    assert fresh(offered).status == Status.BOOKED
    assert to_client(offered, "booking_confirmed").count() == 1


def test_cancelling_frees_the_slot(offered):
    first = booking.offered_slots(offered)[0]
    Chat(offered.client).send("1")
    assert first not in suggest_slots("MEDIUM")
    artist.act(fresh(offered), "cancel", reason="client asked", actor="artist")
    assert fresh(offered).status == Status.CANCELLED
    assert Booking.objects.get(lead=offered).state == Reservation.State.CANCELLED
    assert first in suggest_slots("MEDIUM")
    assert to_client(offered, "booking_cancelled").count() == 1


# -- START after STOP ------------------------------------------------------------------------


def test_start_after_stop_keeps_the_deposit_and_booking_and_reconfirms(offered):
    chat = Chat(offered.client)
    chat.send("1")
    kept = Booking.objects.get(lead=offered)
    chat.send("STOP")
    (summary,) = chat.send("START")
    assert "£150 deposit is paid" in summary.body and "still booked" in summary.body
    assert "Reply YES" in summary.body  # the summary to confirm, not the first question
    assert "START" in artist_notes().latest("pk").body
    assert fresh(offered).status == Status.QUALIFYING
    chat.send("yes")
    assert fresh(offered).status == Status.PENDING_APPROVAL
    artist.act(fresh(offered), "approve", reason="welcome back", actor="artist")
    assert fresh(offered).status == Status.BOOKED
    assert Booking.objects.filter(lead=offered).get() == kept
    assert Deposit.objects.filter(lead=offered).count() == 1
    assert to_client(offered, "booking_confirmed").count() == 2
    assert kept.start > timezone.now()

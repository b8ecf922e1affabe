"""From a paid deposit to a session in the diary: slots offered, chosen, held and booked.

BOOKING_PENDING: the client picks one of the offered slots (held, then booked at once: the
deposit is already in); NONE, or no free slot at all, asks for a few times instead
(COLLECTING_TIME_WINDOWS), which go to the artist. The booking-link path (BOOKING_LINK_SENT)
is for artists who book on their own page. The diary itself is `bookings.slots`.
"""

import re
from datetime import datetime

from django.utils import timezone

from bookings.models import Availability, Booking, Deposit, Reservation, SlotHold
from bookings.slots import (
    HoldExpired,
    Slot,
    SlotTaken,
    book_hold,
    cancel_booking,
    hold_slot,
    release_holds,
    suggest_slots,
)
from conversations import transitions, wording
from conversations.flows import handover, script, waiting
from conversations.flows.turn import Turn
from conversations.models import Answer, Message, Status
from conversations.parsing import format_money
from conversations.parsing.slots import ParseError as SlotParseError
from conversations.parsing.slots import parse_slot_choice, parse_time_windows

# parse_failures keys: the third failure on either hands the lead over.
SLOT_CHOICE = "slot_choice"
TIME_WINDOWS = "time_windows"
# Outbound purpose of a message that offers slots; its payload["slots"] are the options.
SLOT_OFFER = "slot_offer"
# No dimensions, no size category: a medium session is the honest middle guess.
DEFAULT_SIZE = "MEDIUM"
# "None of them work", "none", "neither": the client wants other times.
NONE_FIT = re.compile(
    r"^\W*(no|nope|neither)\W*$"  # the whole reply: "no", "nope!"; "no 2" stays a choice
    r"|\bnone\b|\bneither\b"
    r"|\b(can'?t|cannot|can not) (do|make) (any|them|those|these)\b"
    r"|\bother (times|dates|days)\b",
    re.IGNORECASE,
)


def event_turn(lead):
    """A Turn for work no client message started (a payment, the artist, a sweep): the lead
    must be locked in the caller's transaction."""
    return Turn(lead, message=None, inbound=None, intent=None, locked=True)


def zone():
    return Availability.load().zone


def format_slot(slot, tz=None):
    """'Tue 10 Mar, 10:00–13:00' in the artist's time zone; a whole day says so."""
    local = slot.local(tz or zone())
    day = f"{local.start:%a} {local.start.day} {local.start:%b}"
    if local.length.total_seconds() >= 24 * 3600:
        return f"{day} (all day)"
    return f"{day}, {local.start:%H:%M}–{local.end:%H:%M}"


# -- after the deposit ----------------------------------------------------------------------


def after_payment(turn, *, intro=wording.deposit_received):
    """DEPOSIT_PAID: a booked session kept from before is confirmed again, else slots offered."""
    kept = live_booking(turn.lead.pk)
    turn.transition("start_booking", reason="Deposit paid: choosing a date", actor="bot")
    if kept is not None:
        confirm_booking(turn, kept, reason="Session kept from before")
        return
    offer_slots(turn, intro=intro)


def offer_slots(turn, *, intro=wording.slot_options):
    """Offer the free slots (BOOKING_PENDING), or ask for a few times when none are free."""
    slots = suggest_slots(turn.lead.size_category or DEFAULT_SIZE)
    if not slots:
        turn.transition("collect_time_windows", reason="No free slot to offer", actor="bot")
        turn.reply(intro(turn.lead), purpose="ask_time_windows")
        return
    tz = zone()
    message = turn.reply(intro(turn.lead, [format_slot(s, tz) for s in slots]), purpose=SLOT_OFFER)
    remember_offer(message, slots)


def remember_offer(message, slots):
    payload = {
        **message.payload,
        "slots": [[s.start.isoformat(), s.end.isoformat()] for s in slots],
    }
    Message.objects.filter(pk=message.pk).update(payload=payload)


def offered_slots(lead):
    """The options of the latest message that listed any; [] when none is on offer now."""
    payload = (
        Message.objects.outbound()
        .filter(lead=lead, payload__has_key="slots")
        .order_by("-created_at", "-id")
        .values_list("payload", flat=True)
        .first()
    )
    slots = (payload or {}).get("slots") or []
    return [
        Slot(datetime.fromisoformat(start), datetime.fromisoformat(end)) for start, end in slots
    ]


# -- BOOKING_PENDING: the client's choice ----------------------------------------------------


def on_slot_reply(turn):
    """A number (or "Tue 2pm") picks an offered slot; NONE asks for other times."""
    options = offered_slots(turn.lead)
    if not options:
        waiting.on_message(turn)  # the artist is finding a time: an acknowledgement
        return
    if not turn.text:
        turn.reply(wording.slot_unclear(turn.lead, options), purpose="slot_unclear")
        return
    if NONE_FIT.search(turn.text):
        ask_for_time_windows(turn)
        return
    try:
        index = parse_slot_choice(turn.text, options, zone())
    except SlotParseError:
        count = _count_failure(turn, SLOT_CHOICE)
        if not handover.hand_over_after_failures(turn, count, "unclear_slot"):
            turn.reply(wording.slot_unclear(turn.lead, options), purpose="slot_unclear")
        return
    book(turn, options[index])


def book(turn, slot):
    """Hold the chosen slot and book it in one go; a slot just taken is offered again."""
    try:
        hold = hold_slot(turn.lead.pk, slot)
        booking = book_hold(hold)
    except (SlotTaken, HoldExpired):
        slots = suggest_slots(turn.lead.size_category or DEFAULT_SIZE)
        tz = zone()
        body = wording.slot_taken(turn.lead, [format_slot(s, tz) for s in slots])
        message = turn.reply(body, purpose=SLOT_OFFER)
        remember_offer(message, slots)
        return
    confirm_booking(turn, booking, reason="Client chose a slot")


def confirm_booking(turn, booking, *, reason):
    """BOOKING_PENDING → BOOKED: one confirmation to the client, one note to the artist."""
    when = format_slot(Slot(booking.start, booking.end))
    turn.transition("mark_booked", reason=f"{reason}: {when}", actor=turn_actor(turn))
    _clear_failures(turn, SLOT_CHOICE, TIME_WINDOWS)
    turn.reply(wording.booking_confirmed(turn.lead, when), purpose="booking_confirmed")
    note = wording.artist_booked(turn.lead, when, deposit=paid_deposit(turn.lead.pk))
    handover.note_to_artist(note, lead=turn.lead)


def turn_actor(turn):
    return "client" if turn.message is not None else "bot"


# -- COLLECTING_TIME_WINDOWS -----------------------------------------------------------------


def ask_for_time_windows(turn):
    turn.transition("collect_time_windows", reason="No offered slot suits the client", actor="bot")
    _clear_failures(turn, SLOT_CHOICE)
    turn.reply(wording.ask_time_windows(turn.lead), purpose="ask_time_windows")


def on_time_windows(turn):
    """Two or three times the client can do: kept as written, parsed where possible, passed on."""
    try:
        windows = parse_time_windows(turn.text, zone(), timezone.now()) if turn.text else []
    except SlotParseError:
        windows = []
    if not windows:
        count = _count_failure(turn, TIME_WINDOWS)
        if not handover.hand_over_after_failures(turn, count, "unclear_time_windows"):
            turn.reply(wording.time_windows_unclear(turn.lead), purpose="ask_time_windows")
        return
    described = [str(window) for window in windows]
    Answer.objects.create(
        lead=turn.lead, question_key=TIME_WINDOWS, text=turn.text, value=described, message=None
    )
    turn.transition("start_booking", reason="Client gave times that suit them", actor="client")
    _clear_failures(turn, TIME_WINDOWS)
    message = turn.reply(wording.time_windows_noted(turn.lead), purpose="time_windows_noted")
    remember_offer(message, [])  # nothing on offer until the artist finds a time
    note = wording.artist_time_windows(turn.lead, turn.text, described)
    handover.note_to_artist(note, lead=turn.lead)


# -- the booking-link path -------------------------------------------------------------------


def send_booking_link(turn):
    """BOOKING_LINK_SENT (the artist's step): where to book on the artist's own page."""
    body = wording.booking_link(turn.lead, turn.studio.booking_url)
    turn.reply(body, purpose=waiting.RESEND_PURPOSES[Status.BOOKING_LINK_SENT])


# -- the artist's steps (flows/artist.py act) ------------------------------------------------


ARTIST_STEPS = frozenset({"send_booking_link", "start_booking", "mark_booked", "cancel"})


class NothingToBook(transitions.TransitionNotAllowed):
    """mark_booked with no session in the diary: the artist books a time there first."""


def after_artist_transition(lead, name, *, actor):
    """What the client hears after the artist's booking steps; `lead` is locked."""
    turn = event_turn(lead)
    from_status = lead.status_changes.order_by("-created_at", "-id").values_list(
        "from_status", flat=True
    )[0]
    if name == "send_booking_link":
        send_booking_link(turn)
    elif name == "start_booking" and from_status != Status.BOOKING_LINK_SENT:
        offer_slots(turn)
    elif name == "mark_booked":
        booked = live_booking(lead.pk) or _book_live_hold(lead.pk)
        if booked is None:
            raise NothingToBook("Add this lead's session to the diary before marking it booked")
        when = format_slot(Slot(booked.start, booked.end))
        turn.reply(wording.booking_confirmed(lead, when), purpose="booking_confirmed")
    elif name == "cancel":
        cancel(turn)
    return turn.lead


def cancel(turn):
    """CANCELLED: the session's time goes back to the diary, and the client is told."""
    lead = turn.lead
    for booking in Booking.objects.filter(lead_id=lead.pk, state=Reservation.State.BOOKED):
        cancel_booking(booking)
    release_holds(lead.pk)
    if not lead.client.is_opted_out:
        turn.reply(wording.booking_cancelled(lead), purpose="booking_cancelled")


def paid_deposit(lead_id):
    """'£150' when the lead's deposit is paid, else ''."""
    deposit = Deposit.objects.filter(lead_id=lead_id, status=Deposit.Status.PAID).first()
    return format_money(deposit.amount_minor, deposit.currency) if deposit else ""


def live_booking(lead_id):
    return (
        Booking.objects.filter(lead_id=lead_id, state=Reservation.State.BOOKED)
        .order_by("-created_at")
        .first()
    )


def _book_live_hold(lead_id):
    hold = SlotHold.objects.live().filter(lead_id=lead_id).order_by("-created_at").first()
    if hold is None:
        return None
    return book_hold(hold)


# -- what a returning client had agreed ------------------------------------------------------


def agreed(lead):
    """ "Your £150 deposit is paid and your session on …": what START must not throw away;
    "" when the artist had not approved the lead yet."""
    deposit = Deposit.objects.filter(lead_id=lead.pk).order_by("-attempt").first()
    if deposit is None:
        return ""
    paid = paid_deposit(lead.pk)
    booking = live_booking(lead.pk)
    when = format_slot(Slot(booking.start, booking.end)) if booking else ""
    return wording.agreed_summary(paid, when)


def resubscribe_approved(turn):
    """START for a lead the artist had approved: its answers, deposit and booking are kept; the
    client re-confirms the summary (not the 13 questions) and the artist hears. False when the
    lead had not been approved (it carries on like any other)."""
    kept = agreed(turn.lead)
    if not kept:
        return False
    to_summary(turn)
    body = wording.resubscribed_agreed(turn.lead, script.prompt(turn), kept)
    turn.reply(body, purpose="summary")
    handover.note_to_artist(wording.artist_restarted_agreed(turn.lead, kept), lead=turn.lead)
    return True


def to_summary(turn):
    """An approved lead's consultation is over: its next step is the summary to confirm."""
    if turn.lead.current_step < len(turn.script):
        turn.update_lead(current_step=len(turn.script))  # under the lock: no race to lose


def _count_failure(turn, key):
    return script.count_failure(turn, key)


def _clear_failures(turn, *keys):
    for key in keys:
        script.clear_failures(turn, key)

"""The entry point of the consultation: what one inbound message means for the lead's status.

`record_inbound` (flows/inbound.py) detects the message's intent once and calls
`handle_message` inside the message's transaction with the lead locked; the intent is routed
here and nowhere else. Every status answers the client somehow (rate-limited where nothing is
asked), except an opted-out client, who hears nothing but the STOP confirmation until START.
"""

from conversations import wording
from conversations.flows import (
    booking,
    deposits,
    handover,
    optout,
    qualifying,
    resume,
    tour,
    waiting,
)
from conversations.flows.turn import SILENT_KINDS, Turn
from conversations.models import HANDOVER_SOURCES, Message, Status
from conversations.parsing import Intent


def handle_message(lead, message, inbound, *, intent, **turn_state):
    """Run the flow for one stored inbound message against the locked lead.

    `intent` is what the message asks for beyond an answer (parsing.detect_intent), or None;
    `turn_state` is the rest of the Turn's fields (the cached script's version, say).
    """
    if lead.client_id == message.client_id and Message.client.is_cached(message):
        lead.client = message.client  # the same row; saves a query
    turn = Turn(lead, message, inbound, intent, **turn_state)

    # STOP wins over everything, in every status.
    if turn.intent == Intent.OPT_OUT:
        optout.opt_out(turn)
        return
    if turn.client.is_opted_out or lead.status == Status.OPTOUT:
        if turn.intent == Intent.RESTART:
            optout.restart(turn)
        return
    if turn.kind in SILENT_KINDS:
        return  # a reaction or a provider notice answers nothing

    opening = start(turn)
    # A first message that asks something ("how much for a tattoo?") is answered first.
    if opening is not None and qualifying.open_with_enquiry(turn, profile_name(turn)):
        return
    # A question the FAQ answers is answered, even one that reads as an intent ("do you have
    # any availability?"); the consultation then goes on.
    consulting = turn.lead.status == Status.QUALIFYING or (
        turn.lead.status == Status.TOUR_CONVERSION_OFFERED and tour.accepted(turn.lead)
    )
    # Asking for a person hands over from every status that can be handed over (a new lead
    # once its consultation has started); the artist then answers whatever was asked.
    if consulting and opening is None and qualifying.answer_enquiry(turn):
        return
    if handover.wants_a_person(turn) and turn.lead.status in HANDOVER_SOURCES:
        handover.hand_over_for_intent(turn)
    elif opening is not None:
        qualifying.ask_first(turn, opening)
    elif consulting:
        qualifying.on_message(turn)
    elif turn.lead.status == Status.TOUR_CONVERSION_OFFERED:
        tour.on_tour_reply(turn)
    elif turn.lead.status == Status.NEEDS_ARTIST_REPLY:
        resume.on_message(turn)
    elif turn.lead.status == Status.BOOKING_PENDING:
        booking.on_slot_reply(turn)
    elif turn.lead.status == Status.COLLECTING_TIME_WINDOWS:
        booking.on_time_windows(turn)
    elif turn.lead.status == Status.DEPOSIT_EXPIRED:
        deposits.on_expired_message(turn)
    else:
        waiting.on_message(turn)


def start(turn):
    """Start the consultation of a new lead, or of a dormant one written to again.

    Returns how its first question opens (`opening(lead, question)`), or None when the lead's
    consultation is already under way.
    """
    if turn.lead.status in (Status.ABANDONED, Status.STALE):
        turn.transition("restart", reason="Client wrote again", actor="client")
        opening = wording.welcome_back
    elif turn.lead.status == Status.NEW:
        opening = greeting(profile_name(turn))
    else:
        return None
    qualifying.start(turn)
    return opening


def profile_name(turn):
    """The client's name as WhatsApp tells it (or as the artist saved it)."""
    return turn.client.display_name or turn.inbound.profile_name


def greeting(name):
    """The opening for a new lead: hello, by the client's name when we know it."""
    return lambda lead, question: wording.greeting(lead, name, question)

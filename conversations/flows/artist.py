"""What the artist does to a lead, from the admin or the API: a transition, or a reply.

The transition itself only writes state and audit (transitions.py); what the client hears
because of it is decided here.
"""

from django.db import transaction

from conversations import outbox, transitions, wording
from conversations.flows import deposits, handover, resume

# What a person decides (DESIGN.md §3): the verdict on an enquiry, taking over and handing
# back, the booking steps, and closing or reopening a lead that is going nowhere. The rest
# belong to the bot's conversation, the client (STOP) or the sweeps (abandon, expire_deposit).
ARTIST_TRANSITIONS = frozenset(
    {
        "approve",
        "reject",
        "hand_over",
        "resume",
        "mark_deposit_paid",
        "send_booking_link",
        "start_booking",
        "mark_booked",
        "cancel",
        "give_up",
        "mark_stale",
        "restart",
    }
)


class BotOnly(transitions.TransitionNotAllowed):
    """The transition is the bot's own; no artist takes it, whatever the lead's status."""


def act(lead, name, *, reason, actor):
    """Run the artist's transition `name` and send what follows it; returns the fresh lead.

    Raises BotOnly for a transition not in ARTIST_TRANSITIONS, TransitionNotAllowed when it
    does not apply now; either way nothing is written or sent.
    """
    if name not in ARTIST_TRANSITIONS:
        raise BotOnly(f"{name!r} is the bot's own transition, not an artist's")
    with transaction.atomic():
        lead = transitions.transition(lead, name, reason=reason, actor=actor)
        if name == "hand_over":
            handover.record_reason(lead, reason or wording.artist_handover_reason("artist"))
        if name == "resume":
            # Back to the bot: the client hears the question they were on again, unless the
            # artist has just written to them (then their reply answers the question).
            resume.clear_reason(lead)
            resume.reask(lead)
        # The deposit and booking steps: the link, the slots, the confirmation (flows/deposits.py).
        lead = deposits.after_artist_transition(lead, name, actor=actor)
    return lead


def reply(lead, body, *, actor):
    """The artist's own words to the client, through the outbox; raises outbox.OptedOut."""
    with transaction.atomic():
        return outbox.queue_message(
            lead.client, body, lead=lead, purpose="artist_reply", actor=actor
        )

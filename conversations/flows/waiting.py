"""Statuses where the client waits on the artist or a payment: a short, rate-limited reply.

At most one acknowledgement per StudioSettings.acknowledgement_cooldown, so a chatty client
doesn't get ten; every message is still stored in the transcript for the artist.
"""

from conversations import wording
from conversations.flows import handover, script
from conversations.models import Message, Question, Status
from conversations.parsing import ParseError, format_money
from conversations.parsing.signals import looks_like_budget

# Outbound purposes whose message is worth sending again while the client waits on it.
RESEND_PURPOSES = {
    Status.AWAITING_DEPOSIT: "deposit_link",
    Status.BOOKING_LINK_SENT: "booking_link",
}


def on_message(turn):
    status = turn.lead.status
    if status == Status.NEEDS_FOLLOW_UP and new_budget(turn):
        return
    body = earlier_link(turn) or wording.acknowledgement(
        turn.lead, status, deposit=deposit_text(turn)
    )
    handover.send_rate_limited(
        turn, body, turn.studio.acknowledgement_cooldown, purpose="acknowledgement"
    )


def deposit_text(turn):
    if turn.lead.status != Status.AWAITING_DEPOSIT or not turn.lead.deposit_minor:
        return None
    return format_money(turn.lead.deposit_minor, turn.studio.currency)


def earlier_link(turn):
    """The pending deposit (or booking) link again: the body of the last message that sent it."""
    purpose = RESEND_PURPOSES.get(turn.lead.status)
    if purpose is None:
        return None
    return (
        Message.objects.outbound()
        .filter(lead=turn.lead, payload__purpose=purpose)
        .order_by("-created_at", "-id")
        .values_list("body", flat=True)
        .first()
    )


def new_budget(turn):
    """NEEDS_FOLLOW_UP: a reply that is a budget is recorded for the artist, who decides."""
    question = next((q for q in turn.script if q.kind == Question.Kind.BUDGET), None)
    # Only a reply that reads as a budget: "I live at 120 Baker Street" is not one.
    if question is None or not looks_like_budget(turn.text):
        return False
    try:
        parsed = script.parse_for(question, turn.text, lambda: turn.studio)
    except ParseError:
        return False
    script.record(turn, question, turn.text, parsed)
    turn.reply(wording.budget_noted(turn.lead, parsed.display), purpose="acknowledgement")
    handover.note_to_artist(wording.artist_budget_update(turn.lead, parsed.display), lead=turn.lead)
    return True

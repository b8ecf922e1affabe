"""Handing a lead to the artist (NEEDS_ARTIST_REPLY): the packet, notes and holding replies.

What the client hears while the artist has the lead, and the way back, is flows/resume.py.
"""

from django.utils import timezone

from conversations import outbox, wording
from conversations.flows import script
from conversations.models import Lead, Question, StudioSettings
from conversations.parsing import Intent, format_money

# Intents that mean "a person should answer this", and the handover kind each one names.
HANDOVER_INTENTS = {
    Intent.HUMAN: "human",
    Intent.REFUND: "refund",
    Intent.DELETE_DATA: "delete_data",
    Intent.PRICE_HAGGLE: "price_haggle",
    Intent.SCHEDULING: "scheduling",
}
RECENT_MESSAGES = 6
MAX_FAILURES = 3  # the third failure on one field hands the lead over


def hand_over(turn, kind, detail=""):
    """Move the lead to the artist, tell the client once, and send the artist the packet."""
    reason = wording.artist_handover_reason(kind, detail)
    turn.transition("hand_over", reason=reason, actor="bot")
    # A new episode: the client's first message while waiting gets a holding reply again.
    turn.update_lead(handover_reason=reason[:255], last_holding_reply_at=None)
    turn.reply(wording.handover(turn.lead, kind), purpose="handover")
    note_to_artist(packet(turn.lead, reason, current=turn.message), lead=turn.lead)


def record_reason(lead, reason):
    """A new handover episode (the artist's own, from the admin or the API): its reason."""
    fields = {"handover_reason": reason[:255], "last_holding_reply_at": None}
    Lead.objects.filter(pk=lead.pk).update(**fields)
    for name, value in fields.items():
        setattr(lead, name, value)


def hand_over_after_failures(turn, count, kind, detail=""):
    """Hand the lead over once a field has failed MAX_FAILURES times; True if it did."""
    if count < MAX_FAILURES:
        return False
    hand_over(turn, kind, detail)
    return True


def hand_over_for_intent(turn):
    hand_over(turn, HANDOVER_INTENTS[turn.intent])


def wants_a_person(turn):
    return turn.intent in HANDOVER_INTENTS


def send_rate_limited(turn, body, cooldown, *, purpose="holding"):
    """Reply at most once per `cooldown` (lead.last_holding_reply_at); the message is kept."""
    last = turn.lead.last_holding_reply_at
    now = timezone.now()
    if last is not None and now - last < cooldown:
        return None
    turn.update_lead(last_holding_reply_at=now)
    return turn.reply(body, purpose=purpose)


def packet(lead, reason, *, current=None, studio=None):
    """The handover packet: client, reason, latest answers, parse failures, estimate, recent."""
    studio = studio or StudioSettings.load()
    labelled = script.labelled_answers(lead, list(Question.objects.script()), studio)
    recent = list(lead.messages.order_by("-created_at", "-id")[:RECENT_MESSAGES])
    # The message being handled is saved against the lead only after the flow returns.
    if current is not None and all(m.pk != current.pk for m in recent):
        recent = [current, *recent[: RECENT_MESSAGES - 1]]
    return wording.artist_packet(
        lead,
        client=lead.client,
        reason=reason,
        answers=labelled,
        failures={k: n for k, n in (lead.parse_failures or {}).items() if n},
        estimate=estimate_text(lead, studio),
        recent=[wording.artist_recent_line(m) for m in reversed(recent)],
    )


def estimate_text(lead, studio):
    """The lead's size category, XL days and deposit for the artist; "" before there is one."""
    deposit = format_money(lead.deposit_minor, studio.currency) if lead.deposit_minor else ""
    return wording.artist_estimate(lead.size_category, lead.xl_days, deposit)


def note_to_artist(body, *, lead=None):
    """A note to the artist's phone; an artist who opted out of their own bot is not an error."""
    try:
        return outbox.queue_artist_note(body, lead=lead)
    except outbox.OptedOut:
        return None

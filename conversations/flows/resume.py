"""NEEDS_ARTIST_REPLY and the way back to the bot.

The client's CONTINUE resumes; anything else they write gets the holding reply, rarely. Every
resume — this one, or the artist's in the admin or the API (flows/artist.py) — ends in
`reask()`, so every path resumes the same way: at most one re-ask per handover episode, and
none straight after the artist's own reply (the client answers the artist, then the question).
"""

from conversations import outbox, wording
from conversations.flows import handover, script, tour
from conversations.models import Lead, Message, Question, Status
from conversations.parsing import Intent

# What a re-ask is queued as: the question (or the summary), or the tour offer.
REASK_PURPOSES = ("question", tour.TOUR_OFFER)


def on_message(turn):
    """NEEDS_ARTIST_REPLY: CONTINUE resumes; anything else gets the holding reply, rarely."""
    if turn.intent in (Intent.CONTINUE, Intent.RESTART):
        turn.transition("resume", reason="Client asked to continue", actor="client")
        turn.update_lead(handover_reason="")
        # The client has just written, so the artist's reply is no longer the last word.
        reask(turn.lead, client_spoke=True)
        return
    handover.send_rate_limited(
        turn, wording.holding_reply(turn.lead), turn.studio.holding_reply_cooldown
    )


def clear_reason(lead):
    """A resumed lead is nobody's to answer any more: its handover reason goes."""
    Lead.objects.filter(pk=lead.pk).update(handover_reason="")
    lead.handover_reason = ""


def reask(lead, *, client_spoke=False):
    """After a resume: ask the current question again (or the summary / the tour offer).

    Nothing when this episode already re-asked, or (unless `client_spoke`) when the artist's
    reply is the last message: the client's next message then answers the current question.
    """
    client = lead.client
    if client.is_opted_out or already_reasked(lead):
        return None
    if not client_spoke and artist_spoke_last(lead):
        return None
    if lead.status == Status.QUALIFYING:
        questions = list(Question.objects.script())
        if not questions:
            return None  # no consultation configured: nothing to ask
        prompt = script.current_prompt(lead, questions)
        body = wording.resumed(lead, prompt)
        return outbox.queue_message(client, body, lead=lead, purpose="question")
    if lead.status == Status.TOUR_CONVERSION_OFFERED:
        return tour.send_offer(lead)
    # Later statuses are between the client and the artist, who just talked to them.
    return None


def episode_start(lead):
    """The (created_at, id) of the transition that began the current handover episode."""
    return (
        lead.status_changes.filter(to_status=Status.NEEDS_ARTIST_REPLY)
        .order_by("-created_at", "-id")
        .values_list("created_at", "id")
        .first()
    )


def already_reasked(lead):
    """True when a question or tour offer went to the client since the episode began."""
    start = episode_start(lead)
    if start is None:
        return False
    return (
        Message.objects.outbound()
        .filter(lead=lead, created_at__gte=start[0], payload__purpose__in=REASK_PURPOSES)
        .exists()
    )


def artist_spoke_last(lead):
    """True when the lead's newest message is the artist's own reply to the client."""
    last = lead.messages.order_by("-created_at", "-id").values_list("payload", flat=True).first()
    return bool(last) and last.get("purpose") == "artist_reply"

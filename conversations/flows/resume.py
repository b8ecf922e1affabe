"""NEEDS_ARTIST_REPLY and the way back to the bot.

The client's CONTINUE resumes; anything else they write gets the holding reply, rarely. Every
resume — this one, or the artist's in the admin or the API (flows/artist.py) — ends in
`reask()`, so every path resumes the same way.
"""

from conversations import outbox, wording
from conversations.flows import handover, script, tour
from conversations.models import Question, Status
from conversations.parsing import Intent


def on_message(turn):
    """NEEDS_ARTIST_REPLY: CONTINUE resumes; anything else gets the holding reply, rarely."""
    if turn.intent in (Intent.CONTINUE, Intent.RESTART):
        turn.transition("resume", reason="Client asked to continue", actor="client")
        reask(turn.lead)
        return
    handover.send_rate_limited(
        turn, wording.holding_reply(turn.lead), turn.studio.holding_reply_cooldown
    )


def reask(lead):
    """After a resume: ask the current question again (or the summary / the tour offer)."""
    client = lead.client
    if client.is_opted_out:
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

"""The end of a consultation the bot can finish: PENDING_APPROVAL and the artist's new-lead note.

Both the confirmed summary and a yes to the tour offer end here.
"""

from conversations import wording
from conversations.flows import handover, script


def complete(turn, answers, headline):
    turn.transition("complete_qualification", reason=headline.capitalize(), actor="bot")
    turn.reply(wording.qualified(turn.lead), purpose="qualified")
    send_new_lead_note(turn, answers, headline)


def send_new_lead_note(turn, answers, headline):
    """The artist's note of a qualified (or followed-up) lead: its answers and the estimate."""
    lead, studio = turn.lead, turn.studio
    body = wording.artist_new_lead(
        lead,
        client=lead.client,
        answers=script.labelled_answers(lead, turn.script, studio, answers),
        estimate=handover.estimate_text(lead, studio),
        headline=headline,
    )
    handover.note_to_artist(body, lead=lead)

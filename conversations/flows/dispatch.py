"""The entry point of the consultation: what one inbound message means for the lead's status.

`record_inbound` (flows/inbound.py) calls `handle_message` inside the message's transaction with
the lead locked. Every status answers the client somehow (rate-limited where nothing is asked),
except an opted-out client, who hears nothing but the STOP confirmation until START.
"""

from conversations import wording
from conversations.flows import handover, optout, qualifying, tour, waiting
from conversations.flows.turn import SILENT_KINDS, Turn
from conversations.models import Message, Status
from conversations.parsing import Intent


def handle_message(lead, message, inbound):
    """Run the flow for one stored inbound message against the locked lead."""
    if lead.client_id == message.client_id and Message.client.is_cached(message):
        lead.client = message.client  # the same row; saves a query
    turn = Turn(lead, message, inbound)

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

    if lead.status in (Status.ABANDONED, Status.STALE):
        turn.transition("restart", reason="Client wrote again", actor="client")
        qualifying.start(turn, wording.welcome_back)
    elif lead.status == Status.NEW:
        name = turn.client.display_name or inbound.profile_name
        qualifying.start(turn, lambda lead, question: wording.greeting(lead, name, question))
    elif lead.status == Status.QUALIFYING:
        qualifying.on_message(turn)
    elif lead.status == Status.TOUR_CONVERSION_OFFERED:
        tour.on_tour_reply(turn)
    elif lead.status == Status.NEEDS_ARTIST_REPLY:
        handover.on_message(turn)
    else:
        waiting.on_message(turn)

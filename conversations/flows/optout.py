"""STOP and START: opting out wins from every status; START brings the client back."""

from django.utils import timezone

from conversations import outbox, wording
from conversations.flows import booking, qualifying
from conversations.models import Client, Status


def opt_out(turn):
    """STOP: the lead goes to OPTOUT, the client is marked, and one confirmation goes out."""
    already_opted_out = turn.client.is_opted_out
    if turn.lead.status != Status.OPTOUT:
        turn.transition("opt_out", reason="Client sent STOP", actor="client")
    if not already_opted_out:
        mark(turn.client, timezone.now())
    if already_opted_out and turn.lead.status == Status.OPTOUT:
        return  # a second STOP: the confirmation went with the first one
    turn.reply(wording.opt_out_confirmation(turn.lead), purpose=outbox.OPT_OUT_CONFIRMATION)


def restart(turn):
    """START after STOP: messages may flow again and the consultation picks up where it was."""
    mark(turn.client, None)
    if turn.lead.status == Status.OPTOUT:
        turn.transition("restart", reason="Client sent START", actor="client")
    if turn.lead.status == Status.NEW:
        qualifying.start(turn)
        if not booking.resubscribe_approved(turn):
            qualifying.ask_first(turn, wording.resubscribed)
    else:
        turn.reply(wording.resubscribed_plain(turn.lead), purpose="resubscribed")


def mark(client, opted_out_at):
    Client.objects.filter(pk=client.pk).update(opted_out_at=opted_out_at)
    client.opted_out_at = opted_out_at

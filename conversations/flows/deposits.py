"""The deposit after approval: its amount locked, its link sent, its payment or expiry recorded.

Approval locks the amount (pricing's rule, recorded on the Deposit) and, in the same
transaction, enqueues `send_deposit_link`; that task asks Stripe for the Checkout Session with
no lock held, then queues the link through the outbox. Without Stripe keys the client is told
how to pay by bank transfer and the artist marks the deposit paid. Stripe's events arrive
through `record_stripe_event`, deduplicated by event id in the transaction of their effect.
"""

from datetime import datetime, timedelta

import stripe
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks import task

from bookings import deposits
from bookings.deposits import checkout
from bookings.models import Deposit
from conversations import pricing, wording
from conversations.flows import booking, handover, qualifying, script
from conversations.models import (
    DORMANT_STATUSES,
    Lead,
    Message,
    Status,
    StudioSettings,
    WebhookEvent,
)
from conversations.parsing import format_money
from leadbot.logs import get_logger

log = get_logger(__name__)

PROVIDER = "stripe"
DEPOSIT_LINK = "deposit_link"  # the outbound purpose flows/waiting.py sends again on request
LINK_TASK_TRIES = 6

# What a Stripe event came to (the webhook answers it, 200 either way).
PAID = "deposit_paid"
EXPIRED = "deposit_expired"
DUPLICATE = "duplicate_event"
UNKNOWN = "unknown_session"
ALREADY_PAID = "already_paid"
NOT_PAID_YET = "payment_not_complete"
IGNORED = "ignored_event_type"
STALE_ATTEMPT = "superseded_attempt"
NOT_OPEN = "deposit_not_open"
BUSY = "busy"
MOVED_ON = "moved_on"
EFFECTS = {PAID, EXPIRED, "paid_while_opted_out", "paid_while_away", "paid_twice", "paid_late"}


def money(deposit):
    return format_money(deposit.amount_minor, deposit.currency)


def deposit_rule(lead, studio):
    """(amount, rule) at approval: the amount the consultation priced, and why."""
    found = pricing.estimate(lead.width_cm, lead.height_cm, lead.current_answers(), studio)
    if lead.deposit_minor:
        if found.size_category and found.deposit_minor == lead.deposit_minor:
            days = f", {found.xl_days} day(s)" if found.xl_days else ""
            return lead.deposit_minor, f"{found.size_category}{days} deposit tier"
        return lead.deposit_minor, "Amount set on the lead"
    if found.deposit_minor:
        return found.deposit_minor, f"{found.size_category} deposit tier"
    # No size to price it by: the medium tier, said plainly so the artist can change it.
    return studio.deposit_medium_minor, "No size estimate: the medium deposit tier"


# -- approval --------------------------------------------------------------------------------


def after_approval(lead, *, actor):
    """AWAITING_DEPOSIT (in the approval's transaction, lead locked): lock it and send the link.

    A lead approved again after START (its deposit kept, paid) goes straight on to booking.
    """
    turn = booking.event_turn(lead)
    kept = Deposit.objects.filter(lead_id=lead.pk, status=Deposit.Status.PAID).first()
    if kept is not None:
        turn.transition("mark_deposit_paid", reason="Deposit paid before: kept", actor=actor)
        booking.after_payment(turn)
        return turn.lead
    studio = StudioSettings.load()
    amount, rule = deposit_rule(lead, studio)
    deposit = deposits.lock(lead.pk, amount_minor=amount, currency=studio.currency, rule=rule)
    send_link(turn, deposit)
    return turn.lead


def send_link(turn, deposit, *, fresh=False):
    """Card payments: the link comes from the task, after commit. Otherwise bank details now."""
    if checkout.is_configured():
        since = timezone.now().isoformat()
        send_deposit_link.enqueue(deposit.pk, fresh=fresh, since=since)
        return
    studio = turn.studio
    body = wording.deposit_bank_transfer(
        turn.lead, money(deposit), studio.deposit_bank_details, studio.approval_message
    )
    turn.reply(body, purpose=DEPOSIT_LINK)


@task()
def send_deposit_link(deposit_id: int, fresh: bool = False, since: str = "", tries: int = 1):
    """Create (or reuse) the deposit's Checkout Session, lock-free, then queue its link."""
    try:
        deposit = deposits.ensure_link(deposit_id, description=wording.deposit_checkout_item())
    except stripe.StripeError as exc:
        return _retry_link(deposit_id, fresh, since, tries, exc)
    with transaction.atomic():
        lead = (
            Lead.objects.select_for_update(of=("self",))
            .select_related("client")
            .get(pk=deposit.lead_id)
        )
        deposit.refresh_from_db()
        waiting_on_it = lead.status in (Status.AWAITING_DEPOSIT, Status.DEPOSIT_EXPIRED)
        if not deposit.link_is_live() or not waiting_on_it or lead.client.is_opted_out:
            return "not_sent"
        if _link_sent(lead, deposit, since):
            return "already_sent"  # a re-run of this task: the client has the link
        turn = booking.event_turn(lead)
        if fresh:
            body = wording.deposit_fresh_link(lead, money(deposit), deposit.url)
        else:
            opening = turn.studio.approval_message
            body = wording.deposit_link(lead, money(deposit), deposit.url, opening)
        message = turn.reply(body, purpose=DEPOSIT_LINK)
        payload = {**message.payload, "deposit_id": deposit.pk}
        Message.objects.filter(pk=message.pk).update(payload=payload)
    return "sent"


def _link_sent(lead, deposit, since):
    """This enqueue's message is queued already (the task ran before and was re-run)."""
    sent = Message.objects.outbound().filter(
        lead=lead, payload__purpose=DEPOSIT_LINK, payload__deposit_id=deposit.pk
    )
    if since:
        sent = sent.filter(created_at__gte=datetime.fromisoformat(since))
    return sent.exists()


def _retry_link(deposit_id, fresh, since, tries, exc):
    """Stripe is down or refused: try again with backoff, then tell the artist."""
    log.warning("deposit.link_failed", deposit_id=deposit_id, tries=tries, error=str(exc)[:300])
    if tries < LINK_TASK_TRIES and not isinstance(exc, stripe.InvalidRequestError):
        later = timezone.now() + timedelta(seconds=30 * 2 ** (tries - 1))
        send_deposit_link.using(run_after=later).enqueue(
            deposit_id, fresh=fresh, since=since, tries=tries + 1
        )
        return "retrying"
    with transaction.atomic():
        deposit = Deposit.objects.get(pk=deposit_id)
        lead = Lead.objects.get(pk=deposit.lead_id)
        handover.note_to_artist(wording.artist_deposit_link_failed(lead, str(exc)), lead=lead)
    return "gave_up"


def after_artist_transition(lead, name, *, actor):
    """What follows the artist's approval and booking steps (flows/artist.py act); lead locked."""
    if name == "approve":
        return after_approval(lead, actor=actor)
    if name == "mark_deposit_paid":
        mark_paid_by_hand(lead, actor=actor)
        return lead
    if name in booking.ARTIST_STEPS:
        return booking.after_artist_transition(lead, name, actor=actor)
    return lead


# -- the client asks again -------------------------------------------------------------------


def on_expired_message(turn):
    """DEPOSIT_EXPIRED: any message asks for a fresh link (the same one while it is live)."""
    latest = Deposit.objects.latest_for(turn.lead.pk)
    if latest is None:
        body = wording.deposit_expired_waiting(turn.lead)
        cooldown = turn.studio.acknowledgement_cooldown
        handover.send_rate_limited(turn, body, cooldown, purpose="acknowledgement")
        return
    if latest.status == Deposit.Status.OPEN:
        if latest.link_is_live():
            body = wording.deposit_fresh_link(turn.lead, money(latest), latest.url)
            handover.send_rate_limited(
                turn, body, turn.studio.acknowledgement_cooldown, purpose=DEPOSIT_LINK
            )
        elif not checkout.is_configured():
            send_link(turn, latest)
        # else: its link is being made; the task sends it
        return
    fresh = deposits.fresh_attempt(latest)
    send_link(turn, fresh, fresh=True)


# -- Stripe's events -------------------------------------------------------------------------


def record_stripe_event(data):
    """Store the event (a verified, parsed body) once and apply it in the same transaction;
    returns what it came to."""
    session = data["data"]["object"]
    with transaction.atomic():
        try:
            with transaction.atomic():
                stored = WebhookEvent.objects.create(
                    provider=PROVIDER,
                    event_id=data["id"],
                    kind=str(data.get("type", ""))[:64],
                    subject=str(session.get("id", ""))[:255],
                    payload=data,
                )
        except IntegrityError:
            return DUPLICATE
        outcome = _apply(data.get("type"), session, data["id"])
        if outcome in EFFECTS:
            WebhookEvent.objects.filter(pk=stored.pk).update(processed_at=timezone.now())
    log.info("stripe.event", event_id=data["id"], type=data.get("type"), outcome=outcome)
    return outcome


def _apply(kind, session, event_id):
    if kind not in (
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.expired",
    ):
        return IGNORED
    deposit = deposits.find_for_session(session.get("id", ""), session.get("metadata"))
    if deposit is None:
        return UNKNOWN
    lead = (
        Lead.objects.select_for_update(of=("self",))
        .select_related("client")
        .get(pk=deposit.lead_id)
    )
    if kind == "checkout.session.expired":
        return _expired(lead, deposit)
    if session.get("payment_status") != "paid":
        return NOT_PAID_YET  # a bank debit still clearing: its own event follows
    if not deposits.mark_paid(deposit, via=f"stripe:{event_id}"):
        return ALREADY_PAID
    return deposit_paid(lead, deposit, actor="stripe")


def _expired(lead, deposit):
    if deposit.status == Deposit.Status.PAID:
        return ALREADY_PAID  # delivered after the payment: the payment stands
    if not deposits.mark_expired(deposit):
        return NOT_OPEN
    latest = Deposit.objects.latest_for(lead.pk)
    if latest.pk != deposit.pk or lead.status != Status.AWAITING_DEPOSIT:
        return STALE_ATTEMPT
    expire(booking.event_turn(lead), actor="stripe")
    return EXPIRED


# -- paid ------------------------------------------------------------------------------------


def deposit_paid(lead, deposit, *, actor):
    """Money received is never ignored: the lead moves on where it can, the artist always hears."""
    turn = booking.event_turn(lead)
    status = lead.status
    amount = money(deposit)
    if status in (Status.AWAITING_DEPOSIT, Status.NEEDS_ARTIST_REPLY, Status.DEPOSIT_EXPIRED):
        turn.transition("mark_deposit_paid", reason=f"Deposit {amount} paid", actor=actor)
        if status == Status.NEEDS_ARTIST_REPLY:
            # The artist has the conversation: they hear of the money now, not at the booking.
            note = wording.artist_deposit_paid(lead, amount, was=Status(status).label)
            handover.note_to_artist(note, lead=lead)
        booking.after_payment(turn)
        return PAID if status != Status.DEPOSIT_EXPIRED else "paid_late"
    if status == Status.OPTOUT or lead.client.is_opted_out:
        handover.note_to_artist(wording.artist_deposit_paid_opted_out(lead, amount), lead=lead)
        return "paid_while_opted_out"
    if status in DORMANT_STATUSES:
        # Set aside while we waited: back to the consultation's summary to re-confirm, and
        # on to booking once the artist approves again (the paid deposit is kept).
        turn.transition("restart", reason=f"Deposit {amount} paid", actor=actor)
        qualifying.start(turn)
        booking.to_summary(turn)
        body = wording.deposit_received_while_away(turn.lead, script.prompt(turn))
        turn.reply(body, purpose="summary")
        handover.note_to_artist(wording.artist_deposit_paid(lead, amount, was=status), lead=lead)
        return "paid_while_away"
    # Paid on top of a deposit already in, or for a closed lead: for the artist to sort out.
    handover.note_to_artist(wording.artist_deposit_paid(lead, amount, was=status), lead=lead)
    return "paid_twice"


def mark_paid_by_hand(lead, *, actor):
    """The artist's mark_deposit_paid (a bank transfer): the open deposit is recorded paid."""
    deposit = Deposit.objects.latest_for(lead.pk)
    if deposit is not None:
        deposits.mark_paid(deposit, via=f"marked paid by {actor}")
    turn = booking.event_turn(lead)
    booking.after_payment(turn)


# -- expiry (the Stripe event, or the sweep) -------------------------------------------------


def expire(turn, *, actor, reason="Deposit link expired unpaid"):
    """AWAITING_DEPOSIT → DEPOSIT_EXPIRED; the client hears how to get a fresh link."""
    turn.transition("expire_deposit", reason=reason, actor=actor)
    if not turn.client.is_opted_out:
        turn.reply(wording.deposit_expired(turn.lead), purpose="deposit_expired")


def overdue(now):
    """Open deposits past their expiry whose lead is still waiting on them."""
    return Deposit.objects.overdue(now).filter(lead__status=Status.AWAITING_DEPOSIT)


def expire_overdue(deposit_id, now, *, actor):
    """One overdue deposit in its own short transaction: "expired", "busy" or "moved_on".

    The lead is locked with SKIP LOCKED: one a webhook or the artist is handling now is left
    for the next run rather than waited for.
    """
    with transaction.atomic():
        deposit = overdue(now).filter(pk=deposit_id).first()
        if deposit is None:
            return MOVED_ON
        lead = (
            Lead.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("client")
            .filter(pk=deposit.lead_id)
            .first()
        )
        if lead is None:
            return BUSY
        if lead.status != Status.AWAITING_DEPOSIT or not deposits.mark_expired(deposit):
            return MOVED_ON
        expire(booking.event_turn(lead), actor=actor)
    return EXPIRED

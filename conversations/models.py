"""The conversation domain: clients, their leads (a state machine), answers and the transcript."""

from datetime import timedelta

from django.db import models
from django.db.models import Case, Exists, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from leadbot.querysets import BatchedQuerySet


class Status(models.TextChoices):
    NEW = "NEW"
    QUALIFYING = "QUALIFYING"
    PENDING_APPROVAL = "PENDING_APPROVAL"
    NEEDS_FOLLOW_UP = "NEEDS_FOLLOW_UP"
    NEEDS_MANUAL_FOLLOW_UP = "NEEDS_MANUAL_FOLLOW_UP"
    TOUR_CONVERSION_OFFERED = "TOUR_CONVERSION_OFFERED"
    WAITLISTED = "WAITLISTED"
    NEEDS_ARTIST_REPLY = "NEEDS_ARTIST_REPLY"
    AWAITING_DEPOSIT = "AWAITING_DEPOSIT"
    DEPOSIT_EXPIRED = "DEPOSIT_EXPIRED"
    DEPOSIT_PAID = "DEPOSIT_PAID"
    BOOKING_LINK_SENT = "BOOKING_LINK_SENT"
    BOOKING_PENDING = "BOOKING_PENDING"
    COLLECTING_TIME_WINDOWS = "COLLECTING_TIME_WINDOWS"
    BOOKED = "BOOKED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"
    OPTOUT = "OPTOUT"
    ABANDONED = "ABANDONED"
    STALE = "STALE"


S = Status
CLOSED_STATUSES = (S.WAITLISTED, S.NEEDS_MANUAL_FOLLOW_UP, S.BOOKED, S.REJECTED, S.CANCELLED)
DORMANT_STATUSES = (S.OPTOUT, S.ABANDONED, S.STALE)
# Tuples in declaration order, so migrations that name them serialise the same way every time.
OPEN_STATUSES = tuple(s for s in Status if s not in CLOSED_STATUSES + DORMANT_STATUSES)
HANDOVER_SOURCES = (
    S.QUALIFYING,
    S.PENDING_APPROVAL,
    S.NEEDS_FOLLOW_UP,
    S.TOUR_CONVERSION_OFFERED,
    S.AWAITING_DEPOSIT,
    S.DEPOSIT_PAID,
    S.BOOKING_LINK_SENT,
    S.BOOKING_PENDING,
    S.COLLECTING_TIME_WINDOWS,
)

# The state machine of DESIGN.md §3: name -> (sources, target). `resume` returns to the status
# the handover came from, so its target is one of the handover sources.
TRANSITIONS = {
    "start_qualifying": ((S.NEW,), S.QUALIFYING),
    "complete_qualification": ((S.QUALIFYING, S.TOUR_CONVERSION_OFFERED), S.PENDING_APPROVAL),
    "flag_follow_up": ((S.QUALIFYING,), S.NEEDS_FOLLOW_UP),
    "give_up": ((S.QUALIFYING,), S.NEEDS_MANUAL_FOLLOW_UP),
    "offer_tour": ((S.QUALIFYING,), S.TOUR_CONVERSION_OFFERED),
    "waitlist": ((S.QUALIFYING, S.TOUR_CONVERSION_OFFERED), S.WAITLISTED),
    "hand_over": (HANDOVER_SOURCES, S.NEEDS_ARTIST_REPLY),
    "resume": ((S.NEEDS_ARTIST_REPLY,), HANDOVER_SOURCES),
    "approve": ((S.PENDING_APPROVAL, S.NEEDS_FOLLOW_UP, S.NEEDS_ARTIST_REPLY), S.AWAITING_DEPOSIT),
    "reject": (tuple(s for s in Status if s in OPEN_STATUSES), S.REJECTED),
    "expire_deposit": ((S.AWAITING_DEPOSIT,), S.DEPOSIT_EXPIRED),
    "mark_deposit_paid": (
        (S.AWAITING_DEPOSIT, S.NEEDS_ARTIST_REPLY, S.DEPOSIT_EXPIRED),
        S.DEPOSIT_PAID,
    ),
    "send_booking_link": ((S.AWAITING_DEPOSIT, S.DEPOSIT_PAID), S.BOOKING_LINK_SENT),
    "start_booking": (
        (S.DEPOSIT_PAID, S.BOOKING_LINK_SENT, S.COLLECTING_TIME_WINDOWS, S.NEEDS_ARTIST_REPLY),
        S.BOOKING_PENDING,
    ),
    "collect_time_windows": ((S.BOOKING_PENDING, S.AWAITING_DEPOSIT), S.COLLECTING_TIME_WINDOWS),
    "mark_booked": ((S.BOOKING_PENDING,), S.BOOKED),
    "cancel": ((S.DEPOSIT_PAID, S.BOOKING_LINK_SENT, S.BOOKING_PENDING, S.BOOKED), S.CANCELLED),
    "opt_out": (tuple(s for s in Status if s != S.OPTOUT), S.OPTOUT),
    "abandon": ((S.QUALIFYING, S.TOUR_CONVERSION_OFFERED), S.ABANDONED),
    "mark_stale": (
        (
            S.PENDING_APPROVAL,
            S.NEEDS_FOLLOW_UP,
            S.NEEDS_ARTIST_REPLY,
            S.DEPOSIT_EXPIRED,
            S.BOOKING_LINK_SENT,
            S.COLLECTING_TIME_WINDOWS,
        ),
        S.STALE,
    ),
    "restart": ((S.OPTOUT, S.ABANDONED, S.STALE), S.NEW),
}


# WhatsApp delivers free text only within 24 hours of the client's last message; after that,
# only an approved template.
WHATSAPP_SERVICE_WINDOW = timedelta(hours=24)


class Channel(models.TextChoices):
    WHATSAPP = "whatsapp", "WhatsApp"
    SMS = "sms", "SMS"


class Client(models.Model):
    """One person on one channel."""

    channel = models.CharField(max_length=16, choices=Channel.choices)
    address = models.CharField(max_length=64, help_text="E.164 number or WhatsApp id")
    business_user_id = models.CharField(max_length=128, blank=True)
    display_name = models.CharField(max_length=200, blank=True)
    opted_out_at = models.DateTimeField(null=True, blank=True)
    # The pilot allowlist's polite refusal goes at most once a day.
    last_notice_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "address"], name="client_unique_address"),
        ]

    def __str__(self):
        return f"{self.display_name or self.address} ({self.channel})"

    @property
    def is_opted_out(self):
        return self.opted_out_at is not None

    def in_service_window(self, now=None):
        """Free text reaches this client now: SMS always, WhatsApp within 24 h of their message."""
        if self.channel != Channel.WHATSAPP:
            return True
        now = now or timezone.now()
        last = self.messages.filter(direction="in").aggregate(last=models.Max("created_at"))["last"]
        return last is not None and now - last < WHATSAPP_SERVICE_WINDOW


# The lead list's groups (the artist's workspace), in the order the list shows them.
NEEDS_YOU_STATUSES = (S.NEEDS_ARTIST_REPLY, S.PENDING_APPROVAL, S.NEEDS_FOLLOW_UP)
BOOKED_STATUSES = (S.DEPOSIT_PAID, S.BOOKING_LINK_SENT, S.BOOKING_PENDING, S.BOOKED)


class LeadGroup(models.IntegerChoices):
    NEEDS_YOU = 0, "Needs you"
    IN_PROGRESS = 1, "In progress"
    BOOKED = 2, "Booked"
    CLOSED = 3, "Closed"


class LeadQuerySet(BatchedQuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def with_workspace_facts(self):
        """Annotated for the lead list: group, waiting since, last message, the studio's currency;
        needs-you first.

        `has_failure`: a failed inbound or dead outbound message. `waiting_since`: when the lead
        entered its status. Needs-you leads come oldest wait first, the others newest first.
        """
        failed = Message.objects.filter(lead=OuterRef("pk")).filter(
            Q(direction=Direction.IN, status=MessageStatus.FAILED) | Q(status=MessageStatus.DEAD)
        )
        entered = StatusChange.objects.filter(lead=OuterRef("pk")).order_by("-created_at", "-id")
        last = Message.objects.filter(lead=OuterRef("pk")).order_by("-created_at", "-id")
        return self.annotate(
            has_failure=Exists(failed),
            waiting_since=Coalesce(Subquery(entered.values("created_at")[:1]), "created_at"),
            last_body=Subquery(last.values("body")[:1]),
            last_direction=Subquery(last.values("direction")[:1]),
            last_actor=Subquery(last.values("payload__actor")[:1]),
            # Uncorrelated: PostgreSQL reads it once for the whole page.
            studio_currency=Subquery(StudioSettings.objects.values("currency")[:1]),
            group=Case(
                When(Q(status__in=NEEDS_YOU_STATUSES) | Q(has_failure=True), then=Value(0)),
                When(status__in=BOOKED_STATUSES, then=Value(2)),
                When(status__in=OPEN_STATUSES, then=Value(1)),
                default=Value(3),
                output_field=IntegerField(),
            ),
            oldest_wait_first=Case(When(group=0, then="waiting_since"), default=None),
        ).order_by(
            "group", models.F("oldest_wait_first").asc(nulls_last=True), "-waiting_since", "-pk"
        )

    def in_group(self, group):
        """Leads of one LeadGroup; on a queryset annotated by with_workspace_facts."""
        return self.filter(group=int(group))

    def for_client(self, client):
        return self.filter(client=client).order_by("-created_at", "-id")


def _transition(name, **kwargs):
    """A django-fsm transition whose sources and target come from the one table."""
    sources, target = TRANSITIONS[name]
    if isinstance(target, tuple):
        target = RETURN_VALUE(*target)
    return transition(field="status", source=list(sources), target=target, **kwargs)


class Lead(ConcurrentTransitionMixin, models.Model):
    """One enquiry of a client; `status` changes only through `transitions.transition()`."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="leads")
    status = FSMField(
        max_length=32, choices=Status.choices, default=Status.NEW, protected=True, db_index=True
    )
    current_step = models.PositiveIntegerField(default=0)

    # Parsed facts, written by the consultation as answers arrive.
    width_cm = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    height_cm = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    budget_minor = models.PositiveIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    city = models.CharField(max_length=120, blank=True)
    country_code = models.CharField(max_length=2, blank=True)
    region = models.CharField(max_length=8, blank=True)
    size_category = models.CharField(max_length=8, blank=True)
    xl_days = models.PositiveSmallIntegerField(null=True, blank=True)
    deposit_minor = models.PositiveIntegerField(null=True, blank=True)

    handover_reason = models.CharField(max_length=255, blank=True)
    parse_failures = models.JSONField(default=dict, blank=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    last_outbound_at = models.DateTimeField(null=True, blank=True)
    last_holding_reply_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LeadQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(status__in=Status.values), name="lead_status_known"),
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(status__in=OPEN_STATUSES),
                name="lead_one_open_per_client",
            ),
        ]

    def __str__(self):
        return f"Lead #{self.pk} {self.client} [{self.status}]"

    def current_answers(self):
        """The latest answer per question key, as {key: Answer}."""
        return Answer.objects.filter(lead=self).current()

    def handed_over_from(self):
        """The status the current handover episode started from."""
        change = (
            self.status_changes.filter(to_status=Status.NEEDS_ARTIST_REPLY)
            .order_by("-created_at", "-id")
            .values_list("from_status", flat=True)
            .first()
        )
        return change or Status.QUALIFYING

    def available_transition_names(self):
        return sorted(t.name for t in self.get_available_status_transitions())

    # The transitions. Each names its sources through TRANSITIONS (transitions.py).
    @_transition("start_qualifying")
    def start_qualifying(self):
        pass

    @_transition("complete_qualification")
    def complete_qualification(self):
        pass

    @_transition("flag_follow_up")
    def flag_follow_up(self):
        pass

    @_transition("give_up")
    def give_up(self):
        pass

    @_transition("offer_tour")
    def offer_tour(self):
        pass

    @_transition("waitlist")
    def waitlist(self):
        pass

    @_transition("hand_over")
    def hand_over(self):
        pass

    @_transition("resume")
    def resume(self):
        return self.handed_over_from()

    @_transition("approve")
    def approve(self):
        pass

    @_transition("reject")
    def reject(self):
        pass

    @_transition("expire_deposit")
    def expire_deposit(self):
        pass

    @_transition("mark_deposit_paid")
    def mark_deposit_paid(self):
        pass

    @_transition("send_booking_link")
    def send_booking_link(self):
        pass

    @_transition("start_booking")
    def start_booking(self):
        pass

    @_transition("collect_time_windows")
    def collect_time_windows(self):
        pass

    @_transition("mark_booked")
    def mark_booked(self):
        pass

    @_transition("cancel")
    def cancel(self):
        pass

    @_transition("opt_out")
    def opt_out(self):
        pass

    @_transition("abandon")
    def abandon(self):
        pass

    @_transition("mark_stale")
    def mark_stale(self):
        pass

    @_transition("restart")
    def restart(self):
        pass


class StatusChange(models.Model):
    """The audit row of one transition, written in the transition's transaction."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=32, choices=Status.choices)
    to_status = models.CharField(max_length=32, choices=Status.choices)
    transition = models.CharField(max_length=40)
    reason = models.CharField(max_length=255, blank=True)
    actor = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["lead", "created_at", "id"])]

    def __str__(self):
        return f"{self.from_status} → {self.to_status} ({self.transition})"


class AnswerQuerySet(models.QuerySet):
    def current(self):
        """Latest wins: the newest answer per key by (created_at, id), as {key: Answer}."""
        latest = self.order_by("question_key", "-created_at", "-id").distinct("question_key")
        return {answer.question_key: answer for answer in latest}


class Answer(models.Model):
    """An answer to one consultation question; append-only, the newest one counts."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="answers")
    question_key = models.CharField(max_length=64)
    text = models.TextField()
    value = models.JSONField(null=True, blank=True)
    message = models.ForeignKey(
        "Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="answers"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = AnswerQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["lead", "question_key", "-created_at", "-id"])]

    def __str__(self):
        return f"{self.question_key}: {self.text[:40]}"


class Direction(models.TextChoices):
    IN = "in", "Inbound"
    OUT = "out", "Outbound"


class MessageStatus(models.TextChoices):
    # Inbound
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    IGNORED = "ignored", "Stored, not processed"
    # Outbound (the outbox)
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    READ = "read", "Read"
    # A send that timed out after it may have reached the provider: no receipt yet.
    UNKNOWN = "unknown", "May have been delivered"
    # Both: an inbound whose flow raised, or an outbound send that will be retried.
    FAILED = "failed", "Failed"
    DEAD = "dead", "Dead (gave up)"


class MessageQuerySet(models.QuerySet):
    def inbound(self):
        return self.filter(direction=Direction.IN)

    def outbound(self):
        return self.filter(direction=Direction.OUT)

    def due(self, now=None):
        """Outbound rows a send may claim now: unsent, not waiting out a backoff or a lease.

        An `unknown` row is due only once its receipt window has passed with no receipt (its
        `next_attempt_at`); without one it has had its one resend.
        """
        now = now or timezone.now()
        return self.outbound().filter(
            Q(status=MessageStatus.QUEUED)
            | Q(status=MessageStatus.FAILED)
            | Q(status=MessageStatus.UNKNOWN, next_attempt_at__isnull=False),
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
            external_id="",
        )


class Message(models.Model):
    """One message of the transcript; outbound rows double as the outbox."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="messages")
    lead = models.ForeignKey(
        Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    direction = models.CharField(max_length=3, choices=Direction.choices)
    external_id = models.CharField(max_length=128, blank=True, default="")
    kind = models.CharField(max_length=24, default="text")
    body = models.TextField(blank=True)
    reply_id = models.CharField(max_length=256, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=MessageStatus.choices)
    provider_timestamp = models.DateTimeField(null=True, blank=True)
    # Delivery bookkeeping for outbound rows.
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        constraints = [
            # The webhook idempotency: a redelivered inbound message cannot be stored twice.
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=Q(direction="in"),
                name="message_unique_inbound_external_id",
            ),
            models.CheckConstraint(
                condition=Q(direction="out") | ~Q(external_id=""),
                name="message_inbound_has_external_id",
            ),
        ]
        indexes = [
            models.Index(fields=["lead", "created_at", "id"]),
            models.Index(
                fields=["channel", "external_id"],
                condition=Q(direction="out") & ~Q(external_id=""),
                name="message_outbound_external_id",
            ),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(direction="out", status__in=["queued", "failed"]),
                name="message_outbox_due",
            ),
        ]

    def __str__(self):
        arrow = "←" if self.direction == Direction.IN else "→"
        return f"{arrow} {self.body[:50]}"


class WebhookEvent(models.Model):
    """A provider event that is not a message (Stripe events, delivery receipts)."""

    provider = models.CharField(max_length=32)
    event_id = models.CharField(max_length=255)
    # What the event is about, e.g. the provider id of the message a receipt is for.
    subject = models.CharField(max_length=255, blank=True, db_index=True)
    kind = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="webhook_event_unique"),
        ]

    def __str__(self):
        return f"{self.provider}:{self.event_id}"


class QuestionQuerySet(models.QuerySet):
    def script(self):
        return self.filter(active=True).order_by("order", "id")


class Question(models.Model):
    """One question of the consultation script; the artist edits these in the admin."""

    class Kind(models.TextChoices):
        TEXT = "text", "Free text"
        DIMENSIONS = "dimensions", "Dimensions"
        BUDGET = "budget", "Budget"
        LOCATION = "location", "City"
        COUNTRY = "country", "Country"
        CHOICE = "choice", "Choice"
        YES_NO = "yes_no", "Yes / no"
        COMPLEXITY = "complexity", "Complexity 1–3"
        MEDIA = "media", "Images or links"
        HANDLE = "handle", "Instagram handle"
        TIMING = "timing", "Timing"

    key = models.SlugField(max_length=64, unique=True)
    prompt = models.TextField()
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.TEXT)
    required = models.BooleanField(
        default=True, help_text="Optional questions can be skipped with SKIP"
    )
    order = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)
    options = models.JSONField(default=list, blank=True, help_text="[[id, label], …] for choices")
    example = models.CharField(max_length=200, blank=True, help_text="Shown in repair prompts")
    label = models.CharField(
        max_length=60, blank=True, help_text="How the summary names the answer; blank: the key"
    )
    aliases = models.JSONField(
        default=list,
        blank=True,
        help_text='Other names for the answer in corrections, e.g. ["size", "measurements"]',
    )

    objects = QuestionQuerySet.as_manager()

    class Meta:
        ordering = ["order", "id"]

    def __str__(self):
        return f"{self.order}. {self.key}"

    @property
    def summary_label(self):
        """The label, or the key made readable for a question the artist left without one."""
        return self.label or self.key.replace("_", " ").capitalize()

    def names(self):
        """Every name a client may use for this answer in "change budget to 800"."""
        # The admin takes any JSON here: a lone string is one alias, what is not text is none.
        aliases = self.aliases if isinstance(self.aliases, list) else [self.aliases]
        names = [self.key, self.key.replace("_", " "), self.summary_label, *aliases]
        return [name for name in names if isinstance(name, str)]


def default_hard_placements():
    return ["ribs", "hand", "hands", "neck", "throat", "face", "foot", "feet", "spine", "sternum"]


class StudioSettings(models.Model):
    """The artist's business rules, one row, edited in the admin."""

    home_city = models.CharField(max_length=120, default="London")
    home_country_code = models.CharField(max_length=2, default="GB")
    currency = models.CharField(max_length=3, default="GBP")
    budget_floor = models.PositiveIntegerField(
        default=50, help_text="Budgets below this (major units) are not understood as budgets"
    )
    min_budget_uk_minor = models.PositiveIntegerField(default=40000)
    min_budget_europe_minor = models.PositiveIntegerField(default=50000)
    min_budget_row_minor = models.PositiveIntegerField(default=60000)
    small_max_cm2 = models.PositiveIntegerField(default=50)
    medium_max_cm2 = models.PositiveIntegerField(default=150)
    large_max_cm2 = models.PositiveIntegerField(default=300)
    xl_cm2_per_day = models.PositiveIntegerField(
        default=300, help_text="Area one XL day covers; XL days are 1–4"
    )
    deposit_small_minor = models.PositiveIntegerField(default=15000)
    deposit_medium_minor = models.PositiveIntegerField(default=15000)
    deposit_large_minor = models.PositiveIntegerField(default=20000)
    deposit_xl_per_day_minor = models.PositiveIntegerField(default=20000)
    hard_placements = models.JSONField(
        default=default_hard_placements,
        blank=True,
        help_text="Placements that bump the size category, e.g. ribs, hand, neck",
    )
    holding_reply_cooldown = models.DurationField(default=timedelta(hours=6))
    acknowledgement_cooldown = models.DurationField(default=timedelta(hours=1))
    # The scheduled commands (sweep_stale, send_reminders); their flags override these.
    abandon_after = models.DurationField(
        default=timedelta(hours=48),
        help_text="A consultation with no client message for this long is abandoned",
    )
    stale_after = models.DurationField(
        default=timedelta(days=3),
        help_text="A lead waiting on approval, a reply or booking with no activity goes stale",
    )
    reminder_after = models.DurationField(
        default=timedelta(hours=12), help_text="Silence before the client gets a nudge"
    )
    last_reminder_after = models.DurationField(
        default=timedelta(hours=36), help_text="Silence before the last reminder"
    )
    reminder_text = models.TextField(
        blank=True,
        help_text="Your own nudge (the current question follows it); blank: the bot's wording",
    )
    last_reminder_text = models.TextField(
        blank=True,
        help_text="Your own last reminder (the current question follows); blank: the bot's",
    )
    # Deposits and booking (issue 12).
    deposit_bank_details = models.TextField(
        blank=True,
        help_text="How to pay a deposit by bank transfer, sent when card payments (Stripe) are off",
    )
    booking_url = models.URLField(
        max_length=500,
        blank=True,
        help_text="Your own booking page, for the 'send booking link' step; blank: offer slots",
    )
    approval_message = models.TextField(
        blank=True,
        help_text="How the client's message opens when you approve (the deposit step follows "
        "it); blank: the bot's",
    )

    class Meta:
        verbose_name = verbose_name_plural = "studio settings"

    def __str__(self):
        return "Studio settings"

    @classmethod
    def load(cls):
        settings_row, _ = cls.objects.get_or_create(pk=1)
        return settings_row


class Reminder(models.Model):
    """A reminder sent to a quiet client; one of each kind per lead, ever (the unique pair)."""

    class Kind(models.TextChoices):
        NUDGE = "nudge", "Nudge"
        LAST = "last", "Last reminder"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["lead", "kind"], name="reminder_one_per_kind"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} for lead #{self.lead_id}"


class TourStop(models.Model):
    """A city the artist will work in, for a while; enquiries there are not out of area."""

    city = models.CharField(max_length=120)
    country_code = models.CharField(max_length=2, blank=True)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["starts_on", "city"]

    def __str__(self):
        return self.city


class FaqQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True).order_by("order", "id")


class Faq(models.Model):
    """A question clients ask mid-consultation and the studio's answer; edited in the admin.

    A blank answer passes the question to the artist. `{home_city}` in an answer is the
    studio's home city.
    """

    class Topic(models.TextChoices):
        PRICE = "price", "Prices"
        DEPOSIT = "deposit", "Deposit"
        LOCATION = "location", "Where the studio is"
        BOOKING = "booking", "How booking works"
        AVAILABILITY = "availability", "Availability"
        AFTERCARE = "aftercare", "Aftercare"
        ARTIST = "artist", "Talking to the artist"
        OTHER = "other", "Other (your keywords only)"

    topic = models.CharField(max_length=16, choices=Topic.choices, default=Topic.OTHER)
    question = models.CharField(
        max_length=200, help_text="How clients ask it, e.g. “How much is the deposit?”"
    )
    keywords = models.JSONField(
        default=list,
        blank=True,
        help_text='Your own phrases for this question, e.g. ["parking"]',
    )
    answer = models.TextField(
        blank=True, help_text="Your answer; leave it blank to pass the question to you"
    )
    order = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    objects = FaqQuerySet.as_manager()

    class Meta:
        ordering = ["order", "id"]
        verbose_name = "FAQ"
        verbose_name_plural = "FAQs"

    def __str__(self):
        return self.question

    @property
    def hands_over(self):
        return not self.answer.strip()

    def phrases(self):
        """The studio's keywords as a list of text (the admin takes any JSON here)."""
        keywords = self.keywords if isinstance(self.keywords, list) else [self.keywords]
        return tuple(k for k in keywords if isinstance(k, str) and k.strip())

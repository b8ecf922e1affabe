"""The artist's diary: when they work, and the time leads hold or have booked.

`bookings` never imports `conversations`: a lead is referred to by the string
"conversations.Lead", so the domain app can import this one and not the other way round.
"""

import secrets
from datetime import time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from leadbot.querysets import BatchedQuerySet

# A whole working day: what an XL session (or each of its days) takes.
WHOLE_DAY = timedelta(days=1)


class Availability(models.Model):
    """When the artist works and how sessions are spaced; one row, edited in the admin."""

    time_zone = models.CharField(max_length=64, default="Europe/London")
    buffer_minutes = models.PositiveIntegerField(
        default=30, help_text="Free time after every session (clean-up, a break)"
    )
    minimum_notice_hours = models.PositiveIntegerField(
        default=48, help_text="No session is offered sooner than this"
    )
    look_ahead_days = models.PositiveIntegerField(
        default=60, help_text="No session is offered further ahead than this"
    )
    slots_to_offer = models.PositiveSmallIntegerField(default=4)
    small_session_hours = models.DecimalField(max_digits=4, decimal_places=2, default=2)
    medium_session_hours = models.DecimalField(max_digits=4, decimal_places=2, default=3)
    large_session_hours = models.DecimalField(max_digits=4, decimal_places=2, default=4)

    class Meta:
        verbose_name = verbose_name_plural = "availability"

    def __str__(self):
        return "Availability"

    @classmethod
    def load(cls):
        row, created = cls.objects.get_or_create(pk=1)
        if created:
            # A starting week the artist edits: Tuesday to Saturday, 10:00 to 18:00.
            WorkingHours.objects.bulk_create(
                WorkingHours(availability=row, weekday=day, start=time(10), end=time(18))
                for day in range(1, 6)
            )
        return row

    def clean(self):
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValidationError({"time_zone": "Not a known time zone"}) from error

    @property
    def zone(self):
        return ZoneInfo(self.time_zone)

    @property
    def buffer(self):
        return timedelta(minutes=self.buffer_minutes)

    @property
    def minimum_notice(self):
        return timedelta(hours=self.minimum_notice_hours)

    @property
    def look_ahead(self):
        return timedelta(days=self.look_ahead_days)

    def session_length(self, size_category):
        """How long a session of this size takes; XL takes a whole working day."""
        hours = {
            "SMALL": self.small_session_hours,
            "MEDIUM": self.medium_session_hours,
            "LARGE": self.large_session_hours,
        }
        if size_category == "XL":
            return WHOLE_DAY
        if size_category not in hours:
            raise ValueError(f"Unknown size category {size_category!r}")
        return timedelta(hours=float(hours[size_category]))


class WorkingHours(models.Model):
    """One stretch of a weekday the artist tattoos; a day may have several (a lunch break)."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0
        TUESDAY = 1
        WEDNESDAY = 2
        THURSDAY = 3
        FRIDAY = 4
        SATURDAY = 5
        SUNDAY = 6

    availability = models.ForeignKey(
        Availability, on_delete=models.CASCADE, related_name="working_hours", default=1
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField(default=time(10))
    end = models.TimeField(default=time(18))

    class Meta:
        ordering = ["weekday", "start"]
        verbose_name_plural = "working hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="hours_end_after_start"
            ),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"


class ClosedDay(models.Model):
    """A date the artist does not work (holiday, convention), whatever the weekday."""

    date = models.DateField(unique=True)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["date"]

    def __str__(self):
        return f"{self.date:%a %d %b %Y}" + (f" ({self.reason})" if self.reason else "")


class ReservationQuerySet(models.QuerySet):
    def live(self, now=None):
        """What occupies the diary at `now`: bookings, and holds not yet expired."""
        now = now or timezone.now()
        return self.filter(
            Q(state=Reservation.State.BOOKED) | Q(state=Reservation.State.HELD, expires_at__gt=now)
        )

    def overlapping(self, start, end):
        return self.filter(period__overlap=(start, end))


class Reservation(models.Model):
    """Time in the diary a lead holds (a hold) or has booked (a booking): one table for both.

    One table because the rule spans both kinds: no two *leads* ever occupy overlapping time.
    The exclusion constraint enforces it in PostgreSQL. Rows of one lead may overlap, so a
    booking can be inserted beside the hold it replaces, in the transaction that releases it.
    Expired holds are marked EXPIRED by a write (a constraint cannot read the clock).
    """

    class Kind(models.TextChoices):
        HOLD = "hold", "Hold"
        BOOKING = "booking", "Booking"

    class State(models.TextChoices):
        HELD = "held", "Held"
        BOOKED = "booked", "Booked"
        RELEASED = "released", "Released"
        EXPIRED = "expired", "Expired"
        CANCELLED = "cancelled", "Cancelled"

    LIVE_STATES = (State.HELD, State.BOOKED)

    lead = models.ForeignKey(
        "conversations.Lead", on_delete=models.CASCADE, related_name="reservations"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=State.choices)
    period = DateTimeRangeField()
    # Holds only: when the hold lapses (the TTL, or the deposit's own expiry).
    expires_at = models.DateTimeField(null=True, blank=True)
    # Bookings only: the hold it replaced, if it was booked from one.
    hold = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="bookings"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # When it stopped occupying the diary (released, expired, cancelled).
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = ReservationQuerySet.as_manager()

    class Meta:
        ordering = ["period"]
        indexes = [models.Index(fields=["lead", "state"], name="reservation_lead_state")]
        constraints = [
            ExclusionConstraint(
                name="reservation_no_overlap_between_leads",
                expressions=[
                    ("period", RangeOperators.OVERLAPS),
                    ("lead", RangeOperators.NOT_EQUAL),
                ],
                condition=Q(state__in=["held", "booked"]),
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="hold", state__in=["held", "released", "expired"])
                    & Q(expires_at__isnull=False)
                )
                | Q(kind="booking", state__in=["booked", "cancelled"]),
                name="reservation_state_fits_kind",
            ),
            models.CheckConstraint(
                condition=Q(period__isempty=False), name="reservation_period_not_empty"
            ),
        ]

    def __str__(self):
        when = f" at {timezone.localtime(self.start):%a %d %b %H:%M}" if self.start else ""
        return f"{self.get_kind_display()} for lead #{self.lead_id}{when}"

    @property
    def start(self):
        return self._bounds()[0]

    @property
    def end(self):
        return self._bounds()[1]

    def _bounds(self):
        # A row just created still holds the (start, end) tuple it was given.
        if isinstance(self.period, tuple | list):
            return tuple(self.period)
        return (self.period.lower, self.period.upper) if self.period else (None, None)

    @property
    def is_live(self):
        if self.state == self.State.BOOKED:
            return True
        return self.state == self.State.HELD and self.expires_at > timezone.now()


class HoldManager(models.Manager.from_queryset(ReservationQuerySet)):
    def get_queryset(self):
        return super().get_queryset().filter(kind=Reservation.Kind.HOLD)


class BookingManager(models.Manager.from_queryset(ReservationQuerySet)):
    def get_queryset(self):
        return super().get_queryset().filter(kind=Reservation.Kind.BOOKING)


class SlotHold(Reservation):
    """A slot a lead chose, reserved until it is booked, released or it lapses."""

    objects = HoldManager()

    class Meta:
        proxy = True

    def save(self, *args, **kwargs):
        self.kind = Reservation.Kind.HOLD
        super().save(*args, **kwargs)


class Booking(Reservation):
    """A booked session in the artist's diary (state booked, or cancelled)."""

    objects = BookingManager()

    class Meta:
        proxy = True

    def save(self, *args, **kwargs):
        self.kind = Reservation.Kind.BOOKING
        super().save(*args, **kwargs)

    @property
    def status(self):
        return self.state


class SessionReminder(models.Model):
    """A reminder of a booked session sent to the client; one of each kind per booking, ever."""

    class Kind(models.TextChoices):
        TWO_DAYS = "48h", "48 hours before"
        ONE_DAY = "24h", "24 hours before"

    booking = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=4, choices=Kind.choices)
    message = models.ForeignKey(
        "conversations.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["booking", "kind"], name="session_reminder_once"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} reminder for booking #{self.booking_id}"


def new_feed_secret():
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """The secret in the diary's iCalendar address; one row. Rotating it cuts off old links."""

    secret = models.CharField(max_length=64, unique=True, default=new_feed_secret)
    rotated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "calendar feed"

    def __str__(self):
        return "Calendar feed"

    @classmethod
    def load(cls):
        row, _ = cls.objects.get_or_create(pk=1)
        return row

    def rotate(self):
        self.secret = new_feed_secret()
        self.rotated_at = timezone.now()
        self.save(update_fields=["secret", "rotated_at"])


# -- deposits (issue 12: bookings/deposits.py) ------------------------------------------------


class DepositQuerySet(BatchedQuerySet):
    def for_lead(self, lead_id):
        return self.filter(lead_id=lead_id).order_by("-attempt")

    def latest_for(self, lead_id):
        return self.for_lead(lead_id).first()

    def overdue(self, now):
        """Open deposits whose link has lapsed unpaid."""
        return self.filter(status=Deposit.Status.OPEN, expires_at__lte=now)


class Deposit(models.Model):
    """One attempt at taking a lead's deposit: the amount locked at approval, and its link.

    A fresh link after an expired one is a new attempt (a new row and Checkout Session); the
    amount and the rule that set it carry over.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for payment"
        PAID = "paid", "Paid"
        EXPIRED = "expired", "Expired unpaid"

    lead = models.ForeignKey(
        "conversations.Lead", on_delete=models.CASCADE, related_name="deposits"
    )
    attempt = models.PositiveSmallIntegerField(default=1)
    amount_minor = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    rule = models.CharField(max_length=200, help_text="What set the amount, at approval")
    # Blank until the Checkout Session exists (or for ever, when deposits are taken by hand).
    checkout_session_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    url = models.URLField(max_length=2000, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    paid_at = models.DateTimeField(null=True, blank=True)
    # "stripe" with the event id, or the admin user who marked a bank transfer paid.
    paid_via = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = DepositQuerySet.as_manager()

    class Meta:
        ordering = ["lead", "attempt"]
        constraints = [
            models.UniqueConstraint(fields=["lead", "attempt"], name="deposit_one_per_attempt"),
            models.CheckConstraint(
                condition=Q(status="paid", paid_at__isnull=False) | ~Q(status="paid"),
                name="deposit_paid_has_time",
            ),
        ]

    def __str__(self):
        return f"Deposit {self.attempt} for lead #{self.lead_id} ({self.get_status_display()})"

    def link_is_live(self, now=None):
        """The link can still be paid: open, created, and not past its expiry."""
        now = now or timezone.now()
        return (
            self.status == self.Status.OPEN
            and bool(self.url)
            and (self.expires_at is None or self.expires_at > now)
        )

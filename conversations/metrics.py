"""Funnel metrics: how far the leads of a period got, in one aggregate query.

The leads counted are those created in the period (a cohort); a lead has reached a stage when
its history shows it entered that stage or a later one, so every stage holds at most as many
leads as the one before it, whichever way a lead travelled (an approval straight from
NEEDS_FOLLOW_UP, say).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from conversations.models import Lead, Status

# (stage, the statuses that mean a lead got this far), in funnel order.
FUNNEL = (
    ("enquired", ()),
    ("qualifying", (Status.QUALIFYING,)),
    ("qualified", (Status.PENDING_APPROVAL, Status.NEEDS_FOLLOW_UP)),
    ("approved", (Status.AWAITING_DEPOSIT,)),
    ("deposit_paid", (Status.DEPOSIT_PAID,)),
    ("booked", (Status.BOOKED,)),
)


@dataclass(frozen=True)
class Stage:
    name: str
    reached: int
    # The share of the previous stage that got this far, and of every lead; None when 0/0.
    conversion: float | None
    of_all: float | None


@dataclass(frozen=True)
class Funnel:
    start: date
    end: date
    leads: int
    by_status: dict[str, int]
    stages: list[Stage]


def _share(part, whole):
    return round(part / whole, 4) if whole else None


def funnel(start: date, end: date) -> Funnel:
    """Leads created from `start` to `end` (local dates, both included): now and how far."""
    if start > end:
        raise ValueError(f"the period starts ({start}) after it ends ({end})")
    zone = timezone.get_current_timezone()
    since = datetime.combine(start, time.min, tzinfo=zone)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)

    # One row: the join to the history repeats a lead per status change, hence distinct.
    counts = {"leads": Count("pk", distinct=True)}
    counts.update(
        {f"now_{status}": Count("pk", filter=Q(status=status), distinct=True) for status in Status}
    )
    for index, (name, _) in enumerate(FUNNEL[1:], start=1):
        this_far = [status for _, statuses in FUNNEL[index:] for status in statuses]
        counts[f"reached_{name}"] = Count(
            "pk", filter=Q(status_changes__to_status__in=this_far), distinct=True
        )
    row = Lead.objects.filter(created_at__gte=since, created_at__lt=until).aggregate(**counts)

    leads = row["leads"]
    stages, previous = [], leads
    for name, _ in FUNNEL:
        reached = leads if name == "enquired" else row[f"reached_{name}"]
        stages.append(Stage(name, reached, _share(reached, previous), _share(reached, leads)))
        previous = reached
    by_status = {status.value: row[f"now_{status}"] for status in Status}
    return Funnel(start, end, leads, by_status, stages)


def default_period(today=None):
    """The last 30 days, today included."""
    today = today or timezone.localdate()
    return today - timedelta(days=29), today

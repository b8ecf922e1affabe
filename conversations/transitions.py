"""The only ways a lead's status and step change: `transition()` and `advance_step()`.

They write state and audit and nothing else: what the client hears after a transition is
the caller's business (the flow that ran it, or flows/artist.py for the admin and the API).
"""

from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed, can_proceed

from conversations.models import TRANSITIONS, Lead, StatusChange
from leadbot.logs import get_logger
from leadbot.postgres import rows

log = get_logger(__name__)

__all__ = ["StepAdvance", "TransitionNotAllowed", "advance_step", "transition"]


def transition(
    lead: Lead, name: str, *, reason: str = "", actor: str = "system", already_locked: bool = False
) -> Lead:
    """Lock the lead, run transition `name`, save it and write its StatusChange, atomically.

    Returns the fresh, locked copy of the lead; raises TransitionNotAllowed (nothing written)
    when the transition does not apply to the status found under the lock. `already_locked`: the
    caller read `lead` under its lock in this transaction, so it is used as it is.
    """
    if name not in TRANSITIONS:
        raise TransitionNotAllowed(f"Unknown transition {name!r}")
    # No savepoint: inside a caller's transaction the lock and writes simply join it. The
    # refusal is raised after the block, so it leaves the caller's transaction usable.
    with transaction.atomic(savepoint=False):
        locked: Lead = lead if already_locked else Lead.objects.select_for_update().get(pk=lead.pk)
        method = getattr(locked, name)
        from_status = locked.status
        allowed = can_proceed(method)
        if allowed:
            method()
            locked.save(update_fields=["status", "updated_at"])
            StatusChange.objects.create(
                lead=locked,
                from_status=from_status,
                to_status=locked.status,
                transition=name,
                reason=reason[:255],
                actor=actor[:150],
                created_at=timezone.now(),
            )
            # Once it is real: a transition rolled back with its caller never happened.
            transaction.on_commit(
                partial(
                    log.info,
                    "lead.transition",
                    lead_id=locked.pk,
                    transition=name,
                    from_status=str(from_status),
                    to_status=str(locked.status),
                    actor=actor[:150],
                )
            )
    if not allowed:
        raise TransitionNotAllowed(
            f"Can't {name} a lead in {from_status}", object=locked, method=method
        )
    return locked


@dataclass(frozen=True)
class StepAdvance:
    advanced: bool
    current_step: int

    def __bool__(self) -> bool:
        return self.advanced

    @property
    def reason(self) -> str:
        return "advanced" if self.advanced else "step_already_advanced"


def advance_step(
    lead_id: int, expected_step: int, *, to_step: int | None = None, **columns: Any
) -> StepAdvance:
    """Move the lead past `expected_step` unless someone already did; the loser sends nothing.

    One conditional UPDATE, which also writes `columns` (facts, never the status) when it wins.
    `to_step` jumps further (past questions a richer message already answered).
    """
    target = expected_step + 1 if to_step is None else to_step
    if "status" in columns:
        raise ValueError("the status changes only through transition()")
    if any(hasattr(value, "resolve_expression") for value in columns.values()):
        advanced = Lead.objects.filter(pk=lead_id, current_step=expected_step).update(
            current_step=target, updated_at=timezone.now(), **columns
        )
    else:
        # The hot path's UPDATE (issue 13): one cached statement, no ORM compilation.
        advanced = rows.update_by_pk(
            Lead,
            lead_id,
            {"current_step": expected_step},
            {"current_step": target, "updated_at": timezone.now(), **columns},
        )
    if advanced:
        return StepAdvance(advanced=True, current_step=target)
    # Lost the race (or the lead is gone): report where the step is now.
    step = Lead.objects.filter(pk=lead_id).values_list("current_step", flat=True).first()
    return StepAdvance(advanced=False, current_step=expected_step if step is None else step)

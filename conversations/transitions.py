"""The only ways a lead's status and step change: `transition()` and `advance_step()`."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed, can_proceed

from conversations.models import TRANSITIONS, Lead, StatusChange

__all__ = ["StepAdvance", "TransitionNotAllowed", "advance_step", "transition"]

_after_transition_hooks = []


def after_transition(hook):
    """Register `hook(lead, change)`; it runs inside the transition's transaction."""
    _after_transition_hooks.append(hook)
    return hook


def transition(lead, name, *, reason="", actor="system"):
    """Lock the lead, run transition `name`, save it and write its StatusChange, atomically.

    Returns the fresh, locked copy of the lead; raises TransitionNotAllowed (nothing written)
    when the transition does not apply to the status found under the lock.
    """
    if name not in TRANSITIONS:
        raise TransitionNotAllowed(f"Unknown transition {name!r}")
    # No savepoint: inside a caller's transaction the lock and writes simply join it. The
    # refusal is raised after the block, so it leaves the caller's transaction usable.
    with transaction.atomic(savepoint=False):
        locked = Lead.objects.select_for_update().get(pk=lead.pk)
        method = getattr(locked, name)
        from_status = locked.status
        allowed = can_proceed(method)
        if allowed:
            method()
            locked.save(update_fields=["status", "updated_at"])
            change = StatusChange.objects.create(
                lead=locked,
                from_status=from_status,
                to_status=locked.status,
                transition=name,
                reason=reason[:255],
                actor=actor[:150],
                created_at=timezone.now(),
            )
            for hook in _after_transition_hooks:
                hook(locked, change)
    if not allowed:
        raise TransitionNotAllowed(
            f"Can't {name} a lead in {from_status}", object=locked, method=method
        )
    return locked


@dataclass(frozen=True)
class StepAdvance:
    advanced: bool
    current_step: int

    def __bool__(self):
        return self.advanced

    @property
    def reason(self):
        return "advanced" if self.advanced else "step_already_advanced"


def advance_step(lead_id, expected_step):
    """Move the lead past `expected_step` unless someone already did; the loser sends nothing."""
    with transaction.atomic(savepoint=False):
        step = (
            Lead.objects.select_for_update()
            .filter(pk=lead_id)
            .values_list("current_step", flat=True)
            .get()
        )
        if step != expected_step:
            return StepAdvance(advanced=False, current_step=step)
        Lead.objects.filter(pk=lead_id).update(current_step=step + 1, updated_at=timezone.now())
        return StepAdvance(advanced=True, current_step=step + 1)

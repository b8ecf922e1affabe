"""The diary's public API: what to offer, and reserving it (holds, bookings, releases)."""

from bookings.slots.holds import (
    HOLD_TTL,
    book_hold,
    book_slot,
    cancel_booking,
    expire_holds,
    hold_slot,
    release_holds,
    slot_of,
)
from bookings.slots.slot import HoldExpired, Slot, SlotTaken
from bookings.slots.suggest import session_length, suggest_slots

__all__ = [
    "HOLD_TTL",
    "HoldExpired",
    "Slot",
    "SlotTaken",
    "book_hold",
    "book_slot",
    "cancel_booking",
    "expire_holds",
    "hold_slot",
    "release_holds",
    "session_length",
    "slot_of",
    "suggest_slots",
]

"""A stretch of diary time, and what goes wrong when reserving one."""

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo


@dataclass(frozen=True, order=True)
class Slot:
    """A session's start and end, aware datetimes (end exclusive)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("A slot's start and end must be aware datetimes")
        if self.end <= self.start:
            raise ValueError("A slot must end after it starts")

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def local(self, zone: tzinfo) -> "Slot":
        """The same slot in the artist's time zone."""
        return Slot(self.start.astimezone(zone), self.end.astimezone(zone))

    def as_range(self) -> tuple[datetime, datetime]:
        return (self.start, self.end)


class SlotTaken(Exception):
    """Another lead holds or has booked time overlapping this slot."""


class HoldExpired(Exception):
    """The hold lapsed or was released before it could be booked."""

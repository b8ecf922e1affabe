from django.apps import AppConfig


class BookingsConfig(AppConfig):
    """The artist's diary: availability, slot holds, booked sessions and the calendar feed."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "bookings"

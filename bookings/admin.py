"""The artist's diary in the admin: when they work, days off, booked sessions, the feed."""

from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import path, reverse

from bookings import slots
from bookings.models import (
    Availability,
    Booking,
    CalendarFeed,
    ClosedDay,
    Deposit,
    SlotHold,
    WorkingHours,
)


class SingletonAdmin(admin.ModelAdmin):
    """One row (pk 1): the list goes straight to it, and it cannot be added twice or deleted."""

    def has_add_permission(self, request):
        return False  # load() makes the row; asking the database here costs every admin page

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        row = self.model.load()
        opts = self.model._meta
        return redirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk]))


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 1


@admin.register(Availability)
class AvailabilityAdmin(SingletonAdmin):
    inlines = [WorkingHoursInline]
    fieldsets = [
        (None, {"fields": ["time_zone", "slots_to_offer"]}),
        ("Spacing", {"fields": ["buffer_minutes", "minimum_notice_hours", "look_ahead_days"]}),
        (
            "Session length (hours; XL takes a whole working day)",
            {"fields": ["small_session_hours", "medium_session_hours", "large_session_hours"]},
        ),
    ]


@admin.register(ClosedDay)
class ClosedDayAdmin(admin.ModelAdmin):
    list_display = ["date", "reason"]
    date_hierarchy = "date"


def local_period(reservation):
    zone = Availability.load().zone
    start, end = reservation.start.astimezone(zone), reservation.end.astimezone(zone)
    return f"{start:%a %d %b %Y, %H:%M}–{end:%H:%M}"


class ReservationAdmin(admin.ModelAdmin):
    list_select_related = ["lead__client"]
    readonly_fields = ["lead", "state", "when", "expires_at", "created_at", "ended_at"]
    fields = readonly_fields
    ordering = ["-period"]

    @admin.display(description="When (your time zone)")
    def when(self, obj):
        return local_period(obj)

    def has_add_permission(self, request):
        return False  # made by the booking flow (or Mark booked on the lead), never typed in

    def has_delete_permission(self, request, obj=None):
        return False  # cancel or release instead: the row is the diary's history


@admin.register(Booking)
class BookingAdmin(ReservationAdmin):
    list_display = ["when", "lead", "state", "created_at"]
    list_filter = ["state"]
    actions = ["cancel_sessions"]

    @admin.action(description="Cancel the selected sessions (frees their time)")
    def cancel_sessions(self, request, queryset):
        cancelled = sum(slots.cancel_booking(booking) for booking in queryset)
        self.message_user(request, f"{cancelled} session(s) cancelled.", messages.SUCCESS)


@admin.register(SlotHold)
class SlotHoldAdmin(ReservationAdmin):
    list_display = ["when", "lead", "state", "expires_at", "live"]
    list_filter = ["state"]

    @admin.display(boolean=True, description="Still holds the time")
    def live(self, obj):
        return obj.is_live  # a lapsed hold reads "held" until the next hold there expires it


@admin.register(CalendarFeed)
class CalendarFeedAdmin(SingletonAdmin):
    """The feed's address, and a button that makes a new secret (the old address stops)."""

    readonly_fields = ["rotated_at"]
    fields = readonly_fields
    change_form_template = "admin/bookings/calendarfeed/change_form.html"

    def get_urls(self):
        rotate = path(
            "<int:pk>/rotate/",
            self.admin_site.admin_view(self.rotate_view),
            name="bookings_calendarfeed_rotate",
        )
        return [rotate, *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        feed = CalendarFeed.load()
        address = reverse("calendar_feed", kwargs={"secret": feed.secret})
        extra_context = {**(extra_context or {}), "feed_url": request.build_absolute_uri(address)}
        return super().change_view(request, object_id, form_url, extra_context)

    def rotate_view(self, request, pk):
        """POST only: a new secret; the phone must subscribe again with the new address."""
        if request.method == "POST" and self.has_change_permission(request):
            CalendarFeed.load().rotate()
            self.message_user(
                request,
                "New calendar address made; the old one no longer works. "
                "Subscribe to the new one from your phone.",
                messages.SUCCESS,
            )
        return redirect(reverse("admin:bookings_calendarfeed_change", args=[pk]))


@admin.register(Deposit)
class DepositAdmin(admin.ModelAdmin):
    """Deposits as Stripe and the artist left them: read-only, the lead's page acts on them."""

    list_display = ["lead", "attempt", "amount", "status", "paid_at", "expires_at"]
    list_filter = ["status"]
    list_select_related = ["lead__client"]
    search_fields = ["checkout_session_id", "lead__client__address"]
    readonly_fields = [
        "lead",
        "attempt",
        "amount",
        "rule",
        "status",
        "checkout_session_id",
        "url",
        "expires_at",
        "paid_at",
        "paid_via",
        "created_at",
    ]
    fields = readonly_fields

    @admin.display(description="Amount")
    def amount(self, obj):
        return f"{obj.amount_minor / 100:,.2f} {obj.currency}"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

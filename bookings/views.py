"""The diary feed a phone's calendar subscribes to; the secret in the address is the key."""

from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET

from bookings import calendar
from bookings.models import CalendarFeed


@require_GET
def calendar_feed(request, secret):
    if not CalendarFeed.objects.filter(pk=1, secret=secret).exists():
        raise Http404("No such calendar")
    body = calendar.feed(calendar.booked_sessions())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="sessions.ics"'
    # The address is the credential: keep it out of shared caches.
    response["Cache-Control"] = "private, max-age=300"
    return response

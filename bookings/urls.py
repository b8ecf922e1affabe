from django.urls import path

from bookings import views

urlpatterns = [
    path("<str:secret>.ics", views.calendar_feed, name="calendar_feed"),
]

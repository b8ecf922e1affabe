from django.urls import path

from conversations import webhooks

app_name = "webhooks"

urlpatterns = [
    path("whatsapp/", webhooks.whatsapp_webhook, name="whatsapp"),
    path("twilio/", webhooks.twilio_webhook, name="twilio"),
    path("stripe/", webhooks.stripe_webhook, name="stripe"),
]

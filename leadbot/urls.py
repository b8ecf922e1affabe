from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from conversations.api import router
from leadbot import health

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/", include(router.urls)),
    path("webhooks/", include("conversations.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]

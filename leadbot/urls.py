from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from conversations.admin import funnel_view, workspace_index
from conversations.api import router
from leadbot import health

urlpatterns = [
    # Before admin/: the artist's funnel page, behind the admin's sign-in.
    path("admin/funnel/", admin.site.admin_view(funnel_view), name="admin_funnel"),
    # The artist's front page is their needs-you list (conversations/admin/__init__.py).
    path("admin/", admin.site.admin_view(workspace_index), name="admin_workspace_index"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/", include(router.urls)),
    path("webhooks/", include("conversations.urls")),
    path("calendar/", include("bookings.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]

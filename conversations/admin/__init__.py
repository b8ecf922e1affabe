"""The artist's workspace in the admin: the lead list and page, failures, settings, the script.

The layer is `conversations.admin`; each page lives in the module named after what it shows.
"""

from django.contrib import admin
from django.shortcuts import redirect

from conversations.admin import failures, faq, leads, studio
from conversations.admin.funnel import FUNNEL_PERMISSIONS, funnel_view
from conversations.admin.leads import ARTIST_ACTIONS
from conversations.models import Answer, Client, Reminder, TourStop, WebhookEvent

__all__ = [
    "ARTIST_ACTIONS",
    "FUNNEL_PERMISSIONS",
    "failures",
    "faq",
    "funnel_view",
    "leads",
    "studio",
    "workspace_index",
]


def workspace_index(request):
    """The admin's front page: for an artist, the needs-you list; for anyone else, the index.

    `?apps` shows the ordinary index to an artist too (wired before admin/ in leadbot/urls.py).
    """
    if request.user.has_perm("conversations.view_lead") and "apps" not in request.GET:
        return redirect("admin:conversations_lead_changelist")
    return admin.site.index(request)


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ["address", "channel", "display_name", "opted_out_at", "created_at"]
    list_filter = ["channel"]
    search_fields = ["address", "display_name"]
    readonly_fields = ["opted_out_at", "last_notice_at", "created_at"]


admin.site.register(TourStop)
admin.site.register(Answer)
admin.site.register(WebhookEvent)


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ["lead", "kind", "created_at"]
    list_filter = ["kind"]
    readonly_fields = ["lead", "kind", "message", "created_at"]

    def has_add_permission(self, request):
        return False  # written by send_reminders only, with its message


admin.site.site_header = "leadbot — your enquiries"
admin.site.site_title = "leadbot"
# The funnel link sits on the index: the project's templates come after
# django.contrib.admin's, so the index template is named.
admin.site.index_template = "admin/conversations/index.html"

"""Messages, and the home of failures: failed inbound to replay, dead outbound to retry."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path

from conversations import wording
from conversations.flows import artist, inbound
from conversations.models import Direction, Message, MessageStatus

# Replaying or retrying acts on the lead's conversation: the artist's change permission.
ACT_PERMISSION = "conversations.change_lead"


def replay_inbound(ids):
    """Run the flow again for each failed inbound message; how many went through."""
    results = [inbound.replay(pk) for pk in ids]
    return sum(1 for r in results if r.outcome != inbound.Outcome.FAILED)


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["short_body", "client", "direction", "status", "kind", "created_at"]
    list_display_links = ["short_body"]
    list_filter = ["direction", "status", "channel"]
    search_fields = ["body", "external_id", "client__address"]
    list_select_related = ["client"]
    readonly_fields = [f.name for f in Message._meta.fields]
    actions = ["replay", "retry"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="Message")
    def short_body(self, message):
        return message.body[:120] or f"[{message.kind}]"

    @admin.action(description="Replay failed inbound messages")
    def replay(self, request, queryset):
        failed = queryset.filter(direction=Direction.IN, status=MessageStatus.FAILED)
        ids = list(failed.values_list("pk", flat=True))
        self.message_user(request, wording.artist_replayed(replay_inbound(ids), len(ids)))

    @admin.action(description="Send dead outbound messages again")
    def retry(self, request, queryset):
        ids = list(queryset.filter(status=MessageStatus.DEAD).values_list("pk", flat=True))
        done = sum(1 for pk in ids if artist.retry(pk))
        self.message_user(request, wording.artist_retried(done, len(ids)))

    def get_urls(self):
        return [
            path(
                "failures/",
                self.admin_site.admin_view(self.failures_view),
                name="conversations_message_failures",
            ),
            *super().get_urls(),
        ]

    def failures_view(self, request):
        """Failed inbound and dead outbound messages, with a replay or retry button each."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        may_act = request.user.has_perm(ACT_PERMISSION)
        if request.method == "POST" and may_act:
            pk = int(request.POST.get("message") or 0)
            if request.POST.get("do") == "replay":
                messages.info(request, wording.artist_replayed(replay_inbound([pk]), 1))
            elif request.POST.get("do") == "retry":
                messages.info(request, wording.artist_retried(int(artist.retry(pk)), 1))
            return redirect("admin:conversations_message_failures")
        rows = artist.failures().select_related("client", "lead").order_by("-created_at", "-id")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Failed messages",
            "failed": rows[:200],
            "may_act": may_act,
        }
        return TemplateResponse(request, "admin/conversations/message/failures.html", context)

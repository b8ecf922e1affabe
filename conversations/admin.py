"""The artist's workspace: read the conversation, reply, approve or reject, take over, hand back."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from conversations import metrics, outbox, transitions
from conversations.flows import artist, handover, inbound
from conversations.models import (
    Answer,
    Client,
    Direction,
    Lead,
    Message,
    MessageStatus,
    Question,
    Reminder,
    Status,
    StatusChange,
    StudioSettings,
    TourStop,
    WebhookEvent,
)

# How the buttons read for the artist; transitions not listed are the bot's own business.
ARTIST_ACTIONS = {
    "approve": "Approve",
    "reject": "Reject",
    "hand_over": "Take over from the bot",
    "resume": "Hand back to the bot",
    "mark_deposit_paid": "Mark deposit paid",
    "send_booking_link": "Booking link sent",
    "start_booking": "Start booking",
    "mark_booked": "Mark booked",
    "cancel": "Cancel",
    "give_up": "Give up",
    "restart": "Restart",
}


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TranscriptInline(ReadOnlyInline):
    model = Message
    fields = ["created_at", "arrow", "body", "kind", "status", "last_error"]
    readonly_fields = fields
    ordering = ["created_at", "id"]
    verbose_name_plural = "Conversation"

    @admin.display(description="")
    def arrow(self, message):
        return "Client →" if message.direction == Direction.IN else "→ Client"


class StatusChangeInline(ReadOnlyInline):
    model = StatusChange
    fields = ["created_at", "from_status", "to_status", "transition", "reason", "actor"]
    readonly_fields = fields


class ReplyForm(forms.Form):
    body = forms.CharField(max_length=4096)


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ["id", "client", "status", "current_step", "handover_reason", "updated_at"]
    list_filter = ["status"]
    search_fields = ["client__address", "client__display_name"]
    list_select_related = ["client"]
    readonly_fields = [
        "client",
        "status",
        "current_step",
        "answers",
        "handover_reason",
        "handover_packet",
        "parse_failures",
        "size_category",
        "deposit_minor",
        "created_at",
        "updated_at",
    ]
    fields = readonly_fields
    inlines = [TranscriptInline, StatusChangeInline]
    change_form_template = "admin/conversations/lead/change_form.html"

    # The page is a workspace, not a form: status and facts change only through the actions.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def may_act(self, request):
        return request.user.has_perm("conversations.change_lead")

    @admin.display(description="Answers (latest)")
    def answers(self, lead):
        rows = sorted(lead.current_answers().items())
        return format_html(
            "<table>{}</table>",
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", ((k, a.text) for k, a in rows)),
        )

    @admin.display(description="Handover packet")
    def handover_packet(self, lead):
        if lead.status != Status.NEEDS_ARTIST_REPLY:
            return "—"
        return format_html(
            "<pre style='white-space:pre-wrap'>{}</pre>",
            handover.packet(lead, lead.handover_reason),
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/transition/<str:name>/",
                self.admin_site.admin_view(self.transition_view),
                name="conversations_lead_transition",
            ),
            path(
                "<int:pk>/reply/",
                self.admin_site.admin_view(self.reply_view),
                name="conversations_lead_reply",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        lead = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if lead is not None:
            may_act = self.may_act(request)
            extra_context["artist_actions"] = [
                (name, label)
                for name, label in ARTIST_ACTIONS.items()
                if may_act and name in lead.available_transition_names()
            ]
            extra_context["can_reply"] = may_act and not lead.client.is_opted_out
        return super().change_view(request, object_id, form_url, extra_context)

    def _back(self, lead):
        return redirect(reverse("admin:conversations_lead_change", args=[lead.pk]))

    def transition_view(self, request, pk, name):
        lead = get_object_or_404(Lead, pk=pk)
        if request.method != "POST" or name not in ARTIST_ACTIONS:
            return self._back(lead)
        if not self.may_act(request):
            messages.error(request, "You may not change this lead.")
            return self._back(lead)
        reason = request.POST.get("reason", "").strip() or f"{ARTIST_ACTIONS[name]} in the admin"
        try:
            artist.act(lead, name, reason=reason, actor=f"artist:{request.user.get_username()}")
        except transitions.TransitionNotAllowed:
            lead.refresh_from_db()
            messages.error(request, f"Can't {ARTIST_ACTIONS[name].lower()} now: {lead.status}.")
        else:
            messages.success(request, f"{ARTIST_ACTIONS[name]}: done.")
        return self._back(lead)

    def reply_view(self, request, pk):
        lead = get_object_or_404(Lead.objects.select_related("client"), pk=pk)
        form = ReplyForm(request.POST or None)
        if request.method == "POST" and self.may_act(request) and form.is_valid():
            try:
                artist.reply(
                    lead, form.cleaned_data["body"], actor=f"artist:{request.user.get_username()}"
                )
            except outbox.OptedOut:
                messages.error(request, "This client opted out; nothing was sent.")
            else:
                messages.success(request, "Reply queued.")
        return self._back(lead)


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ["address", "channel", "display_name", "opted_out_at", "created_at"]
    list_filter = ["channel"]
    search_fields = ["address", "display_name"]
    readonly_fields = ["opted_out_at", "last_notice_at", "created_at"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "client", "direction", "kind", "status", "short_body", "created_at"]
    list_filter = ["direction", "status", "channel"]
    search_fields = ["body", "external_id", "client__address"]
    list_select_related = ["client"]
    readonly_fields = [f.name for f in Message._meta.fields]
    actions = ["replay"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="Body")
    def short_body(self, message):
        return message.body[:80]

    @admin.action(description="Replay failed inbound messages")
    def replay(self, request, queryset):
        failed = queryset.filter(direction=Direction.IN, status=MessageStatus.FAILED)
        results = [inbound.replay(pk) for pk in failed.values_list("pk", flat=True)]
        done = sum(1 for r in results if r.outcome != inbound.Outcome.FAILED)
        self.message_user(request, f"Replayed {done} of {len(results)} failed message(s).")


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["order", "key", "kind", "required", "active", "prompt"]
    list_editable = ["active"]
    list_display_links = ["key"]


@admin.register(StudioSettings)
class StudioSettingsAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return not StudioSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


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


# The enquiry funnel page (/admin/funnel/, wired in leadbot/urls.py through admin_view), linked
# from the index: the project's templates come after django.contrib.admin's, so it is named.
admin.site.index_template = "admin/conversations/index.html"
FUNNEL_PERMISSIONS = ["conversations.view_lead", "conversations.view_statuschange"]


class FunnelPeriodForm(forms.Form):
    """`?from=&to=`, as in the API; the last 30 days when left out."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # "from" is a Python keyword, so the fields are added by name.
        self.fields["from"] = forms.DateField(
            required=False, widget=forms.DateInput({"type": "date"})
        )
        self.fields["to"] = forms.DateField(
            required=False, widget=forms.DateInput({"type": "date"})
        )

    def clean(self):
        default_start, default_end = metrics.default_period()
        end = self.cleaned_data.get("to") or default_end
        start = self.cleaned_data.get("from") or min(default_start, end)
        if start > end:
            raise forms.ValidationError("The first day must not be after the last.")
        return {"from": start, "to": end}


def funnel_view(request):
    """Leads of a period: how many reached each stage, as bars, and their status now."""
    if not request.user.has_perms(FUNNEL_PERMISSIONS):
        raise PermissionDenied
    form = FunnelPeriodForm(request.GET)
    result = None
    if form.is_valid():
        result = metrics.funnel(form.cleaned_data["from"], form.cleaned_data["to"])
    context = {
        **admin.site.each_context(request),
        "title": "Enquiry funnel",
        "form": form,
        "funnel": result,
        "bars": [
            (stage, round((stage.of_all or 0) * 100, 1))
            for stage in (result.stages if result else [])
        ],
        "statuses": [(s, result.by_status[s.value]) for s in Status if result.by_status[s.value]]
        if result
        else [],
    }
    return render(request, "admin/conversations/funnel.html", context)


# -- FAQ: what the bot answers mid-consultation (issue 9) -----------------------------------

from conversations.models import Faq  # noqa: E402  (kept with its admin: one block)


@admin.register(Faq)
class FaqAdmin(admin.ModelAdmin):
    """The studio's answers to the questions clients ask; a blank answer hands over."""

    list_display = ("question", "topic", "short_answer", "active", "order")
    list_editable = ("active", "order")
    list_filter = ("topic", "active")
    search_fields = ("question", "answer")
    ordering = ("order", "id")

    @admin.display(description="Answer")
    def short_answer(self, faq):
        if faq.hands_over:
            return "— passed to you —"
        return faq.answer if len(faq.answer) <= 80 else faq.answer[:79] + "…"

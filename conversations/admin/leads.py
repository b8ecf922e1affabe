"""The lead list (needs-you first, bulk actions) and the lead page (a conversation).

Every change goes through flows/artist.py, so the history and what the client hears are the
same as from the API.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince

from conversations import outbox, transitions, wording
from conversations.admin import lead_page
from conversations.flows import artist
from conversations.models import Channel, Direction, Lead, LeadGroup
from conversations.parsing import format_money

# How the buttons read for the artist, in the order they are shown.
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
    "mark_stale": "Set aside",
    "restart": "Restart",
}
# Actions whose reason the artist must give (it is in the history and the client's file).
NEEDS_REASON = frozenset({"reject", "cancel"})


class GroupFilter(admin.SimpleListFilter):
    title = "group"
    parameter_name = "group"

    def lookups(self, request, model_admin):
        return [(str(group.value), group.label) for group in LeadGroup]

    def queryset(self, request, queryset):
        if self.value() in {str(group.value) for group in LeadGroup}:
            return queryset.in_group(self.value())
        return queryset


class ChannelFilter(admin.SimpleListFilter):
    title = "channel"
    parameter_name = "channel"

    def lookups(self, request, model_admin):
        return Channel.choices

    def queryset(self, request, queryset):
        if self.value() in Channel.values:
            return queryset.filter(client__channel=self.value())
        return queryset


class ReplyForm(forms.Form):
    body = forms.CharField(max_length=4096, strip=True)
    as_template = forms.BooleanField(required=False)


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ["client_name", "status_badge", "last_message", "waited", "estimate"]
    list_display_links = ["client_name"]
    list_filter = [GroupFilter, ChannelFilter]
    search_fields = ["client__address", "client__display_name", "answers__text"]
    list_select_related = ["client"]
    list_per_page = 50
    # The full count is a second COUNT(*) over every lead on each page view.
    show_full_result_count = False
    actions = ["reject_selected", "mark_stale_selected", "hand_back_selected"]
    change_list_template = "admin/conversations/lead/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).with_workspace_facts()

    def get_ordering(self, request):
        return []  # with_workspace_facts orders: needs you, oldest wait first

    # Leads come from the bot; their status and facts change only through the actions.
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # -- the list's columns ----------------------------------------------------------------

    @admin.display(description="Client")
    def client_name(self, lead):
        return lead.client.display_name or lead.client.address

    @admin.display(description="Status")
    def status_badge(self, lead):
        return format_html(
            '<span class="lead-badge lead-status-{}">{}</span>{}',
            lead.status.lower(),
            wording.artist_status_label(lead.status).capitalize(),
            format_html(' <span class="lead-badge lead-failed">{}</span>', "failed message")
            if lead.has_failure
            else "",
        )

    @admin.display(description="Last message")
    def last_message(self, lead):
        if lead.last_body is None:
            return "—"
        who = "Client" if lead.last_direction == Direction.IN else lead_page.who(lead.last_actor)
        return format_html(
            '<span class="lead-last"><b>{}:</b> {}</span>', who, lead.last_body or "[media]"
        )

    @admin.display(description="Waiting")
    def waited(self, lead):
        return timesince(lead.waiting_since, timezone.now(), depth=1)

    @admin.display(description="Estimate")
    def estimate(self, lead):
        if not lead.size_category:
            return "—"
        currency = lead.studio_currency or "GBP"
        deposit = format_money(lead.deposit_minor, currency) if lead.deposit_minor else ""
        return wording.artist_estimate(lead.size_category, lead.xl_days, deposit)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "failure_count": artist.failures().count(),
            "funnel": request.user.has_perm("conversations.view_statuschange"),
        }
        if request.method != "GET":
            return super().changelist_view(request, extra_context)  # bulk actions: one tx each
        # The sort needs each lead's wait, a subquery per row the planner overprices: past
        # jit_above_cost, PostgreSQL spends 100+ ms compiling a 50-row page. Not worth it here.
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
            response = super().changelist_view(request, extra_context)
            if hasattr(response, "render"):
                response.render()  # the rows are read here, inside this transaction
        return response

    # -- bulk actions ------------------------------------------------------------------------

    def _bulk(self, request, queryset, name, label):
        result = artist.act_on_many(
            queryset.order_by("pk"),
            name,
            reason=f"{label} from the lead list",
            actor=self.actor(request),
        )
        level = messages.SUCCESS if not result.skipped else messages.WARNING
        self.message_user(
            request,
            wording.artist_bulk_report(label, len(result.changed), result.skipped),
            level,
        )

    @admin.action(description="Reject the selected leads", permissions=["change"])
    def reject_selected(self, request, queryset):
        self._bulk(request, queryset, "reject", "Rejected")

    @admin.action(description="Set the selected leads aside (stale)", permissions=["change"])
    def mark_stale_selected(self, request, queryset):
        self._bulk(request, queryset, "mark_stale", "Set aside")

    @admin.action(description="Hand the selected leads back to the bot", permissions=["change"])
    def hand_back_selected(self, request, queryset):
        self._bulk(request, queryset, "resume", "Handed back")

    # -- the lead page ---------------------------------------------------------------------

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

    def actor(self, request):
        return f"artist:{request.user.get_username()}"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The lead as a conversation: timeline, reply box, facts and the actions of now."""
        lead = self.get_object(request, object_id)
        if lead is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_permission(request, lead):
            raise PermissionDenied
        may_act = self.has_change_permission(request, lead)
        actions = artist.actions_for(lead, request.user) if may_act else []
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"{lead.client.display_name or lead.client.address}",
            "lead": lead,
            "may_act": may_act,
            "actions": [
                (name, label, name in NEEDS_REASON)
                for name, label in ARTIST_ACTIONS.items()
                if name in actions
            ],
            **lead_page.context(lead),
        }
        return TemplateResponse(request, "admin/conversations/lead/workspace.html", context)

    def _back(self, lead):
        return redirect(reverse("admin:conversations_lead_change", args=[lead.pk]))

    def transition_view(self, request, pk, name):
        lead = get_object_or_404(Lead, pk=pk)
        if request.method != "POST" or name not in ARTIST_ACTIONS:
            return self._back(lead)
        if not self.has_change_permission(request, lead):
            messages.error(request, wording.artist_may_not_act())
            return self._back(lead)
        label = ARTIST_ACTIONS[name]
        reason = request.POST.get("reason", "").strip()[:255]
        if name in NEEDS_REASON and not reason:
            messages.error(request, wording.artist_reason_needed(label))
            return self._back(lead)
        try:
            artist.act(
                lead,
                name,
                reason=reason or f"{label} in the admin",
                actor=self.actor(request),
                expected_status=request.POST.get("expected_status") or None,
            )
        except transitions.TransitionNotAllowed:
            lead.refresh_from_db(fields=["status"])
            messages.error(request, wording.artist_moved_meanwhile(label, lead.status))
        else:
            messages.success(request, wording.artist_done(label))
        return self._back(lead)

    def reply_view(self, request, pk):
        lead = get_object_or_404(Lead.objects.select_related("client"), pk=pk)
        form = ReplyForm(request.POST or None)
        if request.method != "POST" or not form.is_valid():
            return self._back(lead)
        if not self.has_change_permission(request, lead):
            messages.error(request, wording.artist_may_not_act())
            return self._back(lead)
        try:
            artist.reply(
                lead,
                form.cleaned_data["body"],
                actor=self.actor(request),
                as_template=form.cleaned_data["as_template"],
            )
        except outbox.OptedOut:
            messages.error(request, wording.artist_reply_opted_out())
        except artist.OutsideWindow:
            messages.error(request, wording.artist_reply_outside_window())
        else:
            messages.success(request, wording.artist_reply_queued())
        return self._back(lead)

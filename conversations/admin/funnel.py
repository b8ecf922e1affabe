"""The enquiry funnel page (/admin/funnel/, wired in leadbot/urls.py through admin_view)."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from conversations import metrics
from conversations.models import Status

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

"""The artist's settings in their own units, on one page, and the consultation script editor."""

from datetime import timedelta
from decimal import Decimal

from django import forms
from django.contrib import admin
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html

from conversations.models import Question, StudioSettings
from conversations.questions import ORDER_STEP


class MoneyField(forms.DecimalField):
    """Pounds (or the studio's currency) on the page, minor units in the database."""

    def __init__(self, **kwargs):
        kwargs.pop("max_value", None)
        kwargs.pop("min_value", None)
        super().__init__(min_value=0, max_digits=9, decimal_places=2, **kwargs)

    def prepare_value(self, value):
        # The stored integer is shown in major units; what the artist typed is shown as typed.
        if isinstance(value, int):
            return f"{Decimal(value) / 100:.2f}".removesuffix(".00")
        return value

    def clean(self, value):
        major = super().clean(value)
        return None if major is None else int(major * 100)


UNITS = {"hours": timedelta(hours=1), "days": timedelta(days=1)}


class DurationWidget(forms.MultiWidget):
    def __init__(self, attrs=None):
        widgets = [
            forms.NumberInput({"step": "any", "min": 0, "class": "duration-amount"}),
            forms.Select(choices=[(unit, unit) for unit in UNITS]),
        ]
        super().__init__(widgets, attrs)

    def decompress(self, value):
        if not value:
            return [None, "hours"]
        if value % UNITS["days"] == timedelta(0):
            return [value // UNITS["days"], "days"]
        return [f"{value / UNITS['hours']:g}", "hours"]


class DurationField(forms.MultiValueField):
    """A duration as "6 hours" or "3 days", never "06:00:00"."""

    widget = DurationWidget

    def __init__(self, **kwargs):
        for unused in ("max_length", "encoder", "decoder"):
            kwargs.pop(unused, None)
        fields = [forms.DecimalField(min_value=0), forms.ChoiceField(choices=list(UNITS.items()))]
        super().__init__(fields=fields, **kwargs)
        self.fields[1].choices = [(unit, unit) for unit in UNITS]

    def compress(self, data_list):
        if not data_list or data_list[0] is None:
            return None
        amount, unit = data_list
        return timedelta(seconds=float(Decimal(amount) * int(UNITS[unit].total_seconds())))


class ListField(forms.CharField):
    """A list of words, one per line (commas work too)."""

    widget = forms.Textarea({"rows": 4})

    def __init__(self, **kwargs):
        for unused in ("encoder", "decoder"):
            kwargs.pop(unused, None)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def clean(self, value):
        text = super().clean(value) or ""
        return [
            word.strip() for line in text.splitlines() for word in line.split(",") if word.strip()
        ]


MONEY = {
    "min_budget_uk_minor": "Minimum budget, UK",
    "min_budget_europe_minor": "Minimum budget, Europe",
    "min_budget_row_minor": "Minimum budget, rest of the world",
    "deposit_small_minor": "Deposit, small",
    "deposit_medium_minor": "Deposit, medium",
    "deposit_large_minor": "Deposit, large",
    "deposit_xl_per_day_minor": "Deposit, XL (per day)",
}
FIELDSETS = [
    (
        "Pricing",
        [
            "currency",
            "budget_floor",
            "min_budget_uk_minor",
            "min_budget_europe_minor",
            "min_budget_row_minor",
            "small_max_cm2",
            "medium_max_cm2",
            "large_max_cm2",
            "xl_cm2_per_day",
            "hard_placements",
        ],
    ),
    (
        "Deposits",
        [
            "deposit_small_minor",
            "deposit_medium_minor",
            "deposit_large_minor",
            "deposit_xl_per_day_minor",
            "deposit_bank_details",
            "booking_url",
        ],
    ),
    ("Area and tours", ["home_city", "home_country_code"]),
    (
        "Reminders and cooldowns",
        [
            "reminder_after",
            "last_reminder_after",
            "abandon_after",
            "stale_after",
            "holding_reply_cooldown",
            "acknowledgement_cooldown",
        ],
    ),
    ("Wording", ["approval_message", "reminder_text", "last_reminder_text"]),
]
LABELS = {
    "budget_floor": "Smallest number read as a budget",
    "small_max_cm2": "Small: up to (cm²)",
    "medium_max_cm2": "Medium: up to (cm²)",
    "large_max_cm2": "Large: up to (cm²)",
    "xl_cm2_per_day": "XL: area of one day (cm²)",
    "hard_placements": "Placements that count as a size up",
    "home_country_code": "Home country (2-letter code)",
    "holding_reply_cooldown": "Holding reply at most every",
    "acknowledgement_cooldown": "Acknowledgement at most every",
    "reminder_after": "First reminder after",
    "last_reminder_after": "Last reminder after",
    "abandon_after": "Set an unfinished consultation aside after",
    "stale_after": "Set a waiting lead aside after",
    "approval_message": "Message on approval",
    "deposit_bank_details": "Bank details (when card payments are off)",
    "booking_url": "Your own booking page",
    "reminder_text": "Reminder opening",
    "last_reminder_text": "Last reminder opening",
}


class StudioSettingsForm(forms.ModelForm):
    # An artist types "mybookings.com/ink": that is an https address.
    booking_url = forms.URLField(
        assume_scheme="https",
        required=False,
        max_length=500,
        label=LABELS["booking_url"],
        help_text=StudioSettings._meta.get_field("booking_url").help_text,
    )

    class Meta:
        model = StudioSettings
        fields = [f.name for f in StudioSettings._meta.fields if f.editable and not f.primary_key]
        labels = LABELS
        field_classes = {
            **dict.fromkeys(MONEY, MoneyField),
            **{
                f.name: DurationField
                for f in StudioSettings._meta.fields
                if f.get_internal_type() == "DurationField"
            },
            "hard_placements": ListField,
        }
        widgets = {
            "approval_message": forms.Textarea({"rows": 3}),
            "deposit_bank_details": forms.Textarea({"rows": 3}),
            "reminder_text": forms.Textarea({"rows": 2}),
            "last_reminder_text": forms.Textarea({"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        currency = self.instance.currency or "GBP"
        for name, label in MONEY.items():
            if name in self.fields:
                self.fields[name].label = f"{label} ({currency})"


@admin.register(StudioSettings)
class StudioSettingsAdmin(admin.ModelAdmin):
    """One settings page: the list and the add page lead straight to it."""

    form = StudioSettingsForm

    def get_fieldsets(self, request, obj=None):
        named = {name for _, names in FIELDSETS for name in names}
        # Settings added since this page was laid out still show, at the end.
        others = [f.name for f in StudioSettings._meta.fields if f.editable and not f.primary_key]
        others = [name for name in others if name not in named]
        sets = [(title, {"fields": names}) for title, names in FIELDSETS]
        return sets + ([("Other", {"fields": others})] if others else [])

    def changelist_view(self, request, extra_context=None):
        settings_row = StudioSettings.load()
        return redirect(
            reverse("admin:conversations_studiosettings_change", args=[settings_row.pk])
        )

    def add_view(self, request, form_url="", extra_context=None):
        return self.changelist_view(request)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def response_change(self, request, obj):
        self.message_user(request, "Settings saved.")
        return redirect(reverse("admin:conversations_studiosettings_change", args=[obj.pk]))


def move(question, by):
    """Move a question `by` places in the script and number the script 10, 20, 30… again."""
    with transaction.atomic():
        ordered = list(Question.objects.select_for_update().order_by("order", "id"))
        index = next(i for i, q in enumerate(ordered) if q.pk == question.pk)
        target = max(0, min(len(ordered) - 1, index + by))
        ordered.insert(target, ordered.pop(index))
        for position, item in enumerate(ordered, start=1):
            number = position * ORDER_STEP
            if item.order != number:
                Question.objects.filter(pk=item.pk).update(order=number)


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    """The consultation script, in the order the client is asked; ↑ ↓ reorder it."""

    list_display = [
        "order",
        "summary_label",
        "short_prompt",
        "kind",
        "required",
        "active",
        "arrows",
    ]
    list_editable = ["order", "active"]
    list_display_links = ["summary_label"]
    ordering = ["order", "id"]
    change_list_template = "admin/conversations/question/change_list.html"

    @admin.display(description="Label")
    def summary_label(self, question):
        return question.summary_label

    @admin.display(description="Question")
    def short_prompt(self, question):
        return question.prompt if len(question.prompt) <= 90 else question.prompt[:89] + "…"

    @admin.display(description="Move")
    def arrows(self, question):
        def button(direction, arrow, title):
            url = reverse("admin:conversations_question_move", args=[question.pk, direction])
            return format_html(
                '<button type="submit" form="question-move" formaction="{}" class="button" '
                'title="{}" aria-label="{}">{}</button>',
                url,
                title,
                title,
                arrow,
            )

        return format_html(
            "{} {}", button("up", "↑", "Ask earlier"), button("down", "↓", "Ask later")
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/move/<str:direction>/",
                self.admin_site.admin_view(self.move_view),
                name="conversations_question_move",
            ),
            *super().get_urls(),
        ]

    def move_view(self, request, pk, direction):
        question = get_object_or_404(Question, pk=pk)
        if request.method == "POST" and self.has_change_permission(request, question):
            move(question, -1 if direction == "up" else 1)
        return redirect("admin:conversations_question_changelist")

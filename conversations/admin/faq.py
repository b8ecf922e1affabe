"""The studio's answers to the questions clients ask mid-consultation (issue 9)."""

from django.contrib import admin

from conversations.models import Faq


@admin.register(Faq)
class FaqAdmin(admin.ModelAdmin):
    """One row per topic the bot answers; a blank answer hands the client to the artist."""

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

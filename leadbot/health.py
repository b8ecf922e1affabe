"""Liveness and readiness probes."""

from django.apps import apps
from django.db import DatabaseError
from django.db.models import Min
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET


@require_GET
def healthz(request):
    """The process is up; touches nothing else."""
    return JsonResponse({"status": "ok"})


def backlog():
    """The age of the oldest queued outbound message and the count of failed inbound ones.

    Each is answered from a small partial index (migration 0009). The model is looked up, not
    imported: this module sits below the app (import-linter's "project" contract).
    """
    message = apps.get_model("conversations", "Message")
    oldest = message.objects.filter(direction="out", status="queued").aggregate(
        oldest=Min("created_at")
    )["oldest"]
    age = (timezone.now() - oldest).total_seconds() if oldest else None
    failed = message.objects.filter(direction="in", status="failed").count()
    return {
        "oldest_queued_outbound_seconds": None if age is None else round(max(age, 0.0), 1),
        "failed_inbound_messages": failed,
    }


@require_GET
def readyz(request):
    """Ready to serve: the database answers; with the outbox backlog and failed messages."""
    try:
        report = backlog()
    except DatabaseError as exc:
        return JsonResponse(
            {"status": "unavailable", "database": "down", "reason": str(exc).strip()[:200]},
            status=503,
        )
    return JsonResponse({"status": "ok", "database": "ok", **report})

"""Liveness and readiness probes."""

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def healthz(request):
    """The process is up; touches nothing else."""
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request):
    """Ready to serve: the database answers a round trip."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return JsonResponse(
            {"status": "unavailable", "database": "down", "reason": str(exc).strip()[:200]},
            status=503,
        )
    return JsonResponse({"status": "ok", "database": "ok"})

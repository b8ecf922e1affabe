"""Request ids: every log line of a request, and of the tasks it queues, names the request."""

import structlog
from django.utils.log import log_response

from leadbot.logs import REQUEST_ID_HEADER, request_id_from


class RequestIdMiddleware:
    """Accept a sane `X-Request-ID` or make one, bind it to the logs, echo it in the response.

    An error response is logged here, inside the request's context, and only if nothing
    logged it already (a webhook's own line, Django's traceback of a 500): Django's handler
    would otherwise log it again after the context is gone.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        # Cleared first: a thread must not carry the previous request's context.
        structlog.contextvars.clear_contextvars()
        with structlog.contextvars.bound_contextvars(request_id=request.request_id):
            response = self.get_response(request)
            if response.status_code >= 400:
                # A no-op when the response was logged already; marks it logged otherwise.
                log_response(
                    "%s: %s",
                    response.reason_phrase,
                    request.path,
                    response=response,
                    request=request,
                )
        response[REQUEST_ID_HEADER] = request.request_id
        return response

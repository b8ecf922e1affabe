"""WSGI entry point (gunicorn `leadbot.wsgi`): Django's handler, webhooks on a shorter chain.

A provider webhook is signed, CSRF-exempt and never signs anyone in, so sessions, auth,
messages, CSRF, static files and the sign-in throttle have nothing to do for it; they still
cost each webhook ~0.2 M instructions (4 % of a mid-flow answer, issue 13). Paths under
settings.WEBHOOK_PATH_PREFIX run through settings.WEBHOOK_MIDDLEWARE only (the request id, the
security headers, APPEND_SLASH, X-Frame-Options: the same response, byte for byte); every
other path through settings.MIDDLEWARE.
"""

import os

import django
from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.utils.module_loading import import_string

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadbot.settings")


class _Chain(BaseHandler):
    """Django's request handling through the given middleware (sync), not settings.MIDDLEWARE."""

    def __init__(self, middleware_paths):
        # BaseHandler.load_middleware for a list of our own; these middleware are all sync.
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(middleware_paths):
            try:
                instance = import_string(path)(handler)
            except MiddlewareNotUsed:
                continue
            if hasattr(instance, "process_view"):
                self._view_middleware.insert(0, instance.process_view)
            if hasattr(instance, "process_template_response"):
                self._template_response_middleware.append(instance.process_template_response)
            if hasattr(instance, "process_exception"):
                self._exception_middleware.append(instance.process_exception)
            handler = convert_exception_to_response(instance)
        self._middleware_chain = handler


class LeadbotHandler(WSGIHandler):
    """Django's WSGI handler, with webhook paths behind settings.WEBHOOK_MIDDLEWARE."""

    def __init__(self):
        super().__init__()
        self.webhooks = _Chain(settings.WEBHOOK_MIDDLEWARE)
        self.webhook_prefix = settings.WEBHOOK_PATH_PREFIX

    def get_response(self, request):
        if request.path_info.startswith(self.webhook_prefix):
            return self.webhooks.get_response(request)
        return super().get_response(request)


def get_wsgi_application():
    """django.core.wsgi.get_wsgi_application(), with our handler."""
    django.setup(set_prefix=False)
    return LeadbotHandler()


application = get_wsgi_application()

# Build the place-name index (about a second) while the worker boots, not in a client's request.
from conversations.parsing.location import parse_location  # noqa: E402

parse_location("London")

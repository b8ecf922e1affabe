"""WSGI config for leadbot: exposes the WSGI callable as a module-level variable ``application``.

https://docs.djangoproject.com/en/5.2/howto/deployment/wsgi/
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadbot.settings")

application = get_wsgi_application()

# Build the place-name index (about a second) while the worker boots, not in a client's request.
from conversations.parsing.location import parse_location  # noqa: E402

parse_location("London")

"""ASGI config for leadbot: exposes the ASGI callable as a module-level variable ``application``.

https://docs.djangoproject.com/en/5.2/howto/deployment/asgi/
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadbot.settings")

application = get_asgi_application()

"""Settings of the bare view (bench/bare_view.py): no apps, no middleware, the same database setup.

The yardstick of `make bench`: what Django itself costs for a webhook doing the minimum SQL.
"""

import os

import dj_database_url

SECRET_KEY = "bench-bare-view-secret-key-of-more-than-32-characters"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.bare_view"
INSTALLED_APPS = []
MIDDLEWARE = []
USE_TZ = True
WHATSAPP_APP_SECRET = os.environ.get("WHATSAPP_APP_SECRET", "bench-app-secret")
DATABASES = {
    # As the product's: persistent, no health check, the deadline backend, server-side binding
    # with prepared statements.
    "default": dj_database_url.parse(
        os.environ["DATABASE_URL"], conn_max_age=600, conn_health_checks=False
    )
}
DATABASES["default"]["ENGINE"] = "leadbot.postgres"
DATABASES["default"]["OPTIONS"] = {
    "connect_timeout": 5,
    "wait_timeout": 10,
    "server_side_binding": True,
    "prepare_threshold": 2,
}

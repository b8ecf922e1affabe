"""leadbot settings: every value comes from the environment, read here and nowhere else."""

import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Django's own deploy check wants 50 (what get_random_secret_key() makes); Meta's app secrets are
# 32 hex characters, and 16 still refuses every placeholder while letting test fixtures run.
SECRET_KEY_MIN_LENGTH = 50
APP_SECRET_MIN_LENGTH = 16
# Values copied from examples, templates and `startproject`, compared with punctuation removed.
PLACEHOLDER_MARKERS = ("changeme", "replaceme", "placeholder", "insecure", "yoursecret")


def weakness(secret, min_length):
    """Why `secret` is unfit for production, or "" when it is not obviously weak."""
    letters = "".join(c for c in secret.lower() if c.isalnum())
    if any(marker in letters for marker in PLACEHOLDER_MARKERS):
        return "looks like a placeholder (changeme, django-insecure-…); generate a random one"
    if len(secret) < min_length:
        return f"is shorter than {min_length} characters"
    if len(set(secret)) < 5:
        return "has fewer than 5 distinct characters"
    return ""


DEBUG = env_bool("DJANGO_DEBUG", default=False)
TESTING = "pytest" in sys.modules or (len(sys.argv) > 1 and sys.argv[1] == "test")
# A developer's machine (make run, make test) sets DJANGO_DEBUG=1 or runs the tests; production
# sets neither and must then provide every secret below.
LOCAL = DEBUG or TESTING

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

WHATSAPP_VERIFY_TOKEN = os.environ.get("WHATSAPP_VERIFY_TOKEN", "")
WHATSAPP_APP_SECRET = os.environ.get("WHATSAPP_APP_SECRET", "")
WHATSAPP_ACCESS_TOKEN = os.environ.get("WHATSAPP_ACCESS_TOKEN", "")
WHATSAPP_PHONE_NUMBER_ID = os.environ.get("WHATSAPP_PHONE_NUMBER_ID", "")
WHATSAPP_API_BASE = os.environ.get("WHATSAPP_API_BASE", "https://graph.facebook.com/v21.0")
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM_NUMBER = os.environ.get("TWILIO_FROM_NUMBER", "")
# Twilio signs the public URL it posted to; behind a proxy that differs from what Django sees.
TWILIO_WEBHOOK_BASE_URL = os.environ.get("TWILIO_WEBHOOK_BASE_URL", "")
TWILIO_API_BASE = os.environ.get("TWILIO_API_BASE", "")
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
# Deposits by card (Stripe Checkout): unset STRIPE_SECRET_KEY means deposits are paid by bank
# transfer and the artist marks them paid. Tests point STRIPE_API_BASE at a local fake.
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "https://api.stripe.com")
STRIPE_CHECKOUT_SUCCESS_URL = os.environ.get("STRIPE_CHECKOUT_SUCCESS_URL", "")
STRIPE_MAX_NETWORK_RETRIES = int(os.environ.get("STRIPE_MAX_NETWORK_RETRIES", "2"))
# How long a deposit link stays payable (Stripe allows 30 minutes to 24 hours).
DEPOSIT_LINK_HOURS = float(os.environ.get("DEPOSIT_LINK_HOURS", "24"))
ARTIST_PHONE = os.environ.get("ARTIST_PHONE", "")
# An approved WhatsApp template with one body parameter, for notes outside the 24-hour window.
ARTIST_NOTIFICATION_TEMPLATE = os.environ.get("ARTIST_NOTIFICATION_TEMPLATE", "")
# send_reminders: an approved template with one body parameter (the reminder, on one line)
# for a client whose 24-hour window has closed; unset, such a client gets no reminder.
REMINDER_TEMPLATE = os.environ.get("REMINDER_TEMPLATE", "")
REMINDER_TEMPLATE_LANGUAGE = os.environ.get("REMINDER_TEMPLATE_LANGUAGE", "en_GB")
PILOT_ALLOWLIST = env_list("PILOT_ALLOWLIST")
PANIC_MODE = env_bool("PANIC_MODE", default=False)
# Recording outbound rows without a network call is the safe default until a token is set.
OUTBOUND_DRY_RUN = env_bool("OUTBOUND_DRY_RUN", default=not WHATSAPP_ACCESS_TOKEN)
WEBHOOK_MAX_BODY_BYTES = 1024 * 1024
# Hostile input (conversations/channels/sanitise.py): a body carrying more messages and
# receipts than this answers 413, so one request stays well inside gunicorn's timeout; JSON
# nested deeper than WEBHOOK_MAX_JSON_DEPTH answers 400 before it is parsed.
WEBHOOK_MAX_BATCH_MESSAGES = int(os.environ.get("WEBHOOK_MAX_BATCH_MESSAGES", "100"))
WEBHOOK_MAX_JSON_DEPTH = int(os.environ.get("WEBHOOK_MAX_JSON_DEPTH", "64"))
OUTBOUND_TIMEOUT_SECONDS = float(os.environ.get("OUTBOUND_TIMEOUT_SECONDS", "10"))
# Delivery (conversations/tasks/) and the task worker (`manage.py db_worker`, ours).
# A send's claim on its row; longer than the slowest send (parts x OUTBOUND_TIMEOUT_SECONDS).
OUTBOX_CLAIM_LEASE_SECONDS = float(os.environ.get("OUTBOX_CLAIM_LEASE_SECONDS", "120"))
# How soon a send whose row was locked by someone else tries again.
OUTBOX_BUSY_RETRY_SECONDS = float(os.environ.get("OUTBOX_BUSY_RETRY_SECONDS", "5"))
# A send that may have gone out is resent (once) only if no receipt came within this window.
DELIVERY_RECEIPT_WINDOW_SECONDS = float(os.environ.get("DELIVERY_RECEIPT_WINDOW_SECONDS", "600"))
# A task RUNNING longer than this lost its worker and is run again, once.
WORKER_TASK_LEASE_SECONDS = float(os.environ.get("WORKER_TASK_LEASE_SECONDS", "300"))
# The longest pause between the worker's attempts to reach a lost database.
WORKER_RECONNECT_MAX_SECONDS = float(os.environ.get("WORKER_RECONNECT_MAX_SECONDS", "10"))

if LOCAL:
    SECRET_KEY = SECRET_KEY or "insecure-local-development-key"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "testserver"]
    WHATSAPP_APP_SECRET = WHATSAPP_APP_SECRET or "local-app-secret"
    WHATSAPP_VERIFY_TOKEN = WHATSAPP_VERIFY_TOKEN or "local-verify-token"
else:
    missing = [
        name
        for name, value in (
            ("DJANGO_SECRET_KEY", SECRET_KEY),
            ("WHATSAPP_APP_SECRET", WHATSAPP_APP_SECRET),
            ("DJANGO_ALLOWED_HOSTS", ALLOWED_HOSTS),
        )
        if not value
    ]
    if missing:
        raise ImproperlyConfigured(
            "Refusing to start with DJANGO_DEBUG off: set " + ", ".join(missing)
        )
    weak = [
        f"{name} {reason}"
        for name, value, min_length in (
            ("DJANGO_SECRET_KEY", SECRET_KEY, SECRET_KEY_MIN_LENGTH),
            ("WHATSAPP_APP_SECRET", WHATSAPP_APP_SECRET, APP_SECRET_MIN_LENGTH),
        )
        if (reason := weakness(value, min_length))
    ]
    if weak:
        raise ImproperlyConfigured(
            "Refusing to start with DJANGO_DEBUG off and a weak secret: " + "; ".join(weak)
        )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    # Before django_tasks_db: its `db_worker` command is conversations' (survives the database).
    "conversations",
    "bookings",
    "django.contrib.postgres",
    "django_tasks",
    "django_tasks_db",
    "django_fsm",
    "axes",
]

MIDDLEWARE = [
    # First, so every response carries X-Request-ID and every log line of the request its id.
    "leadbot.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout response.
    "axes.middleware.AxesMiddleware",
]

# The provider webhooks' chain (leadbot/wsgi.py): a signed, CSRF-exempt request that signs no
# one in needs none of sessions, auth, messages, CSRF, static files or the sign-in throttle.
# What it keeps shapes the response (request id, security headers, APPEND_SLASH, framing).
WEBHOOK_PATH_PREFIX = "/webhooks/"
WEBHOOK_MIDDLEWARE = [
    "leadbot.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "leadbot.urls"
WSGI_APPLICATION = "leadbot.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Unset DATABASE_URL means the embedded PostgreSQL that `make` starts under .data/.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if not DATABASE_URL:
    raise ImproperlyConfigured(
        "DATABASE_URL is not set: run through `make run` / `make test`, which start the "
        "embedded PostgreSQL, or point it at a server."
    )
DATABASES = {
    # Persistent connections: about 3x webhook throughput on this machine (DESIGN.md §10). No
    # health check: it is a round trip on every request. A connection that died is found by the
    # request's first statement (OperationalError: the webhook answers 503, as for an outage)
    # and Django closes it at the end of that request, so the next one reconnects.
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=600, conn_health_checks=False)
}
# A stalled database must answer 503 before gunicorn's 30 s timeout kills the worker: the
# server cancels a statement after DATABASE_STATEMENT_TIMEOUT; a hung network or server is cut
# by our backend after DATABASE_WAIT_TIMEOUT (leadbot/postgres). Worst case for one request,
# a failed health check then a failed reconnect: wait + connect = 18 s by default.
DATABASE_STATEMENT_TIMEOUT = float(os.environ.get("DATABASE_STATEMENT_TIMEOUT", "10"))
DATABASE_WAIT_TIMEOUT = float(os.environ.get("DATABASE_WAIT_TIMEOUT", "15"))
DATABASE_CONNECT_TIMEOUT = int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "3"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = "leadbot.postgres"
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        connect_timeout=DATABASE_CONNECT_TIMEOUT,
        wait_timeout=DATABASE_WAIT_TIMEOUT,
        options=f"-c statement_timeout={int(DATABASE_STATEMENT_TIMEOUT * 1000)}",
        # Parameters bound by the server, and a statement run twice on a connection prepared
        # there: less Python per statement (no client-side quoting) and no re-planning;
        # gunicorn CPU per message 4.6 -> 3.7 ms in make bench (issue 13). No pooler sits in
        # between, so prepared statements are safe.
        server_side_binding=True,
        prepare_threshold=2,
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # The manifest storage needs collectstatic, which tests never run.
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if LOCAL
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "leadbot API",
    "VERSION": "0.1.0",
    # The schema maps every endpoint and field: staff only, like the API itself.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAdminUser"],
    # A lead's status appears as Lead.status and StatusChange.from/to_status, and "status" is
    # also a Message field with other choices: each choice set gets one name of its own.
    "ENUM_NAME_OVERRIDES": {
        "LeadStatusEnum": "conversations.models.Status",
        "MessageStatusEnum": "conversations.models.MessageStatus",
    },
}

TASKS = {
    # Stored in the caller's transaction, run by `manage.py db_worker` (tests drain it in-process).
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend"},
}

# JSON lines by default (leadbot/logs.py); LOG_FORMAT=plain for a person reading a terminal.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        # One record, one line: client data (message ids, bodies) cannot forge a log line.
        "json": {"()": "leadbot.logs.JSONFormatter"},
        "plain": {"()": "leadbot.logs.PlainFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain" if LOG_FORMAT == "plain" else "json",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's default config gives these their own console handler (DEBUG only) on top of
        # propagating to ours, so each 4xx was written twice; here they only propagate.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
    },
}

if not LOCAL:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# HTTPS. Off by default so plain-HTTP runs (make run, the test servers) work; production sets
# SECURE_SSL_REDIRECT=1 and SECURE_HSTS_SECONDS=31536000 (docs/operations.md).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=False)
# Load balancers probe over plain HTTP; a redirect would read as "down".
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)

# Admin sign-in throttle (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one
# username from one address, that pair is locked out for AXES_COOLOFF_MINUTES, even with the
# right password. The test client's force_login() does not authenticate, so it is never locked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_MINUTES = int(os.environ.get("AXES_COOLOFF_MINUTES", "15"))
AXES_COOLOFF_TIME = timedelta(minutes=AXES_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Its start-up banner is noise in every process (tests, workers, commands).
AXES_VERBOSE = False
AXES_COOLOFF_MESSAGE = (
    f"Too many failed sign-ins: this account is locked for {AXES_COOLOFF_MINUTES} minutes. "
    "Try again later."
)

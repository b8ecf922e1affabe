"""gunicorn's settings, the one place for them: `make run`, the Dockerfile and compose use it.

Chosen by measurement on the 2-core box (bench/webhook_load.py, issue 13): the webhook is
CPU-bound in Python, so two sync workers (one per core) serve it best; 3-4 workers or gthread
threads measured no faster and add latency. A sync worker busy longer than `timeout` is killed
with its request unanswered, so DATABASE_WAIT_TIMEOUT + DATABASE_CONNECT_TIMEOUT stay below it.
Environment: BIND, WEB_WORKERS, WEB_TIMEOUT.
"""

import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_WORKERS", "2"))
worker_class = "sync"
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
graceful_timeout = 10
# Requests are short; a kept-alive connection saves the provider a handshake per webhook.
keepalive = 5
accesslog = os.environ.get("WEB_ACCESS_LOG", "-") or None
control_socket_disable = True
loglevel = os.environ.get("WEB_LOG_LEVEL", "info")
# The app is imported once, in the master, and its one-off tables built before the workers fork
# (the city index the location question reads costs ~1.4 s of CPU): no client's message waits
# for them, a restarted worker starts warm, and the workers share the memory.
preload_app = True


def when_ready(server):
    from conversations.parsing.location import parse_location

    parse_location("London")

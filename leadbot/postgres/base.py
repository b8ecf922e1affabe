"""Django's PostgreSQL backend with a deadline on every wait for the server.

A server-side `statement_timeout` cannot fire when the query never reaches the server (a hung
network or server with the connection still open), and TCP keepalives are answered by the peer's
kernel even then: libpq would wait for ever, and a sync gunicorn worker stuck there is killed at
its timeout with the request unanswered. Here every wait gives up after
`OPTIONS["wait_timeout"]` seconds: the connection is closed (its protocol state is unknown) and
psycopg's OperationalError is raised, which the webhooks and /readyz answer with a 503.
Not for LISTEN (a wait for notifications would hit the deadline too) nor for `OPTIONS["pool"]`.
"""

import psycopg
from django.db.backends.postgresql import base
from psycopg.errors import _WaitTimeout  # psycopg: "callers should convert it to a public one"


class DeadlineConnection(psycopg.Connection):
    """A psycopg connection whose waits without a deadline of their own get `wait_timeout`."""

    wait_timeout: float | None = None

    @classmethod
    def connect(cls, conninfo="", *, wait_timeout=None, **kwargs):
        connection = super().connect(conninfo, **kwargs)
        connection.wait_timeout = float(wait_timeout) if wait_timeout else None
        return connection

    def wait(self, gen, interval=0.1, timeout=None):
        if timeout is not None or self.wait_timeout is None:
            return super().wait(gen, interval, timeout)
        try:
            return super().wait(gen, interval, self.wait_timeout)
        except _WaitTimeout:
            # Called with the connection's lock held, so close() (which takes it) cannot be used.
            self.pgconn.finish()
            raise psycopg.OperationalError(
                f"the database did not answer within {self.wait_timeout:g} s; connection closed"
            ) from None


class _Driver:
    """The psycopg module as Django's backend sees it, but connecting with DeadlineConnection."""

    connect = DeadlineConnection.connect

    def __getattr__(self, name):
        return getattr(psycopg, name)


class DatabaseWrapper(base.DatabaseWrapper):
    Database = _Driver()

"""The webhook's hot path in hand-written SQL: locking the sender (and their open lead).

The one module where the inbound path bypasses the ORM (issue 13): the statement every message
starts with, run through Django's connection, and the inbound row's INSERT. It returns model
instances, so the flows keep their ORM objects; the answer, step and outbox writes go through
the same cached statements (leadbot.postgres.rows). It never writes a lead's status
(transitions.transition() does).
"""

from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connection, connections

from conversations.models import OPEN_STATUSES, Client, Direction, Lead, Message
from leadbot.postgres import rows

CLIENT_FIELDS = tuple(Client._meta.concrete_fields)
LEAD_FIELDS = tuple(Lead._meta.concrete_fields)
CLIENT_TABLE = Client._meta.db_table
LEAD_TABLE = Lead._meta.db_table
MESSAGE_TABLE = Message._meta.db_table
VERSION = "(SELECT version FROM conversations_configversion)"
# Served by the partial unique index message_unique_inbound_external_id.
SEEN = (
    f"EXISTS (SELECT 1 FROM {MESSAGE_TABLE} m WHERE m.channel = %s AND m.external_id = %s"
    f" AND m.direction = '{Direction.IN}')"
)


def _columns(alias, fields):
    return ", ".join(f'{alias}."{field.column}"' for field in fields)


# The sender and their open lead (at most one: lead_one_open_per_client), both locked, with the
# script's version and whether this message was stored before. NO KEY UPDATE on the client, so
# rows that merely point at it are not blocked. After waiting for a lock, PostgreSQL re-checks
# the lead row it locks: a lead another message closed meanwhile is not returned, and neither is
# one created meanwhile (the snapshot predates it); both then take the slow path below.
LOCK_SENDER_AND_OPEN_LEAD = (
    f"SELECT {_columns('c', CLIENT_FIELDS)}, {_columns('l', LEAD_FIELDS)}, {VERSION}, {SEEN}"
    f" FROM {CLIENT_TABLE} c JOIN {LEAD_TABLE} l ON l.client_id = c.id"
    f" AND l.status IN ({', '.join(['%s'] * len(OPEN_STATUSES))})"
    " WHERE c.channel = %s AND c.address = %s FOR NO KEY UPDATE OF c FOR UPDATE OF l"
)
LOCK_SENDER = (
    f"SELECT {_columns('c', CLIENT_FIELDS)}, {VERSION}, {SEEN} FROM {CLIENT_TABLE} c"
    " WHERE c.channel = %s AND c.address = %s FOR NO KEY UPDATE"
)
# A new row is invisible to others until commit and a conflicting insert waits for it: it is
# as good as locked.
NEW_CLIENT_COLUMNS = ", ".join(f'"{f.column}"' for f in CLIENT_FIELDS if not f.primary_key)
INSERT_SENDER = (
    f"INSERT INTO {CLIENT_TABLE} AS c ({NEW_CLIENT_COLUMNS})"
    f" VALUES ({', '.join(['%s'] * (len(CLIENT_FIELDS) - 1))})"
    " ON CONFLICT (channel, address) DO NOTHING"
    f" RETURNING {_columns('c', CLIENT_FIELDS)}, {VERSION}"
)


@dataclass
class LockedSender:
    """What the lock statement found: the client, their open lead if any, and more."""

    client: Client | None  # None when `seen`
    lead: Lead | None
    config_version: int | None
    seen: bool  # this message (channel, external id) is already stored
    created: bool = False


def _converters(fields):
    return [
        (field.attname, field.from_db_value if hasattr(field, "from_db_value") else None)
        for field in fields
    ]


CLIENT_CONVERTERS = _converters(CLIENT_FIELDS)
LEAD_CONVERTERS = _converters(LEAD_FIELDS)


def _instance(model, converters, values):
    converted = [
        value if convert is None or value is None else convert(value, None, connection)
        for (_, convert), value in zip(converters, values, strict=True)
    ]
    return model.from_db(connection.alias, [name for name, _ in converters], converted)


def lock_sender(inbound) -> LockedSender:
    """Lock the sender of `inbound` (created if new) and their open lead, if they have one."""
    seen_params = [inbound.channel, inbound.external_id]
    cursor = rows.kept_cursor(connections[DEFAULT_DB_ALIAS])
    cursor.execute(
        LOCK_SENDER_AND_OPEN_LEAD,
        [*seen_params, *OPEN_STATUSES, inbound.channel, inbound.address],
    )
    row = cursor.fetchone()
    if row is not None and row[-1]:
        return _seen(row)
    if row is not None:
        split = len(CLIENT_FIELDS)
        client = _instance(Client, CLIENT_CONVERTERS, row[:split])
        lead = _instance(Lead, LEAD_CONVERTERS, row[split : split + len(LEAD_FIELDS)])
        lead.client = client
        return LockedSender(client, lead, row[-2], seen=False)
    created = _insert_sender(cursor, inbound)
    if created is not None:
        return created
    # A known sender without an open lead (or one another message just opened).
    cursor.execute(LOCK_SENDER, [*seen_params, inbound.channel, inbound.address])
    row = cursor.fetchone()
    if row[-1]:
        return _seen(row)
    client = _instance(Client, CLIENT_CONVERTERS, row[: len(CLIENT_FIELDS)])
    return LockedSender(client, None, row[-2], seen=False)


def _seen(row):
    """A message stored before: nothing of the sender is needed, so no instance is built."""
    return LockedSender(None, None, row[-2], seen=True)


def _insert_sender(cursor, inbound):
    new = Client(
        channel=inbound.channel,
        address=inbound.address,
        display_name=inbound.profile_name[:200],
        business_user_id=inbound.business_user_id[:128],
    )
    values = [
        field.get_db_prep_save(getattr(new, field.attname), connection)
        for field in CLIENT_FIELDS
        if not field.primary_key
    ]
    cursor.execute(INSERT_SENDER, values)
    row = cursor.fetchone()
    if row is None:
        return None
    client = _instance(Client, CLIENT_CONVERTERS, row[:-1])
    return LockedSender(client, None, row[-1], seen=False, created=True)


def insert_message(**fields) -> Message:
    """INSERT a Message row with the cached statement (leadbot.postgres.rows): no ORM compile."""
    return rows.insert(Message(**fields))


def insert_lead(**fields) -> Lead:
    """INSERT a new Lead (status NEW: its default) with the cached statement, as create() would.

    Lead has no save signals; the FSM's record of the status it was read with is set by its
    constructor, which is the status written.
    """
    return rows.insert(Lead(**fields))

"""Writing a model's rows with statements built once per process, for the webhook's hot path.

`Model.save()` compiles its INSERT and preps every value through the ORM on each call: most of
the webhook's CPU (issue 13). Here the statement is built once per model (or per set of
columns) and plain values go to psycopg as they are; other fields prep theirs, as in the ORM.
The rows are the ones `create()` writes, minus its pre_save/post_save signals, so only models
without receivers (or whose receivers the caller stands in for) may be written here.
"""

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import (
    BooleanField,
    CharField,
    ForeignKey,
    IntegerField,
    Model,
    TextField,
    UUIDField,
)
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone

_PLAIN = (BooleanField, CharField, ForeignKey, IntegerField, TextField, UUIDField)


class _Insert:
    """One model's INSERT of every concrete column (but a database-made id) RETURNING its pk."""

    def __init__(self, model):
        meta = model._meta
        self.fields = [
            field
            for field in meta.concrete_fields
            if not (field.primary_key and isinstance(field, AutoFieldMixin))
        ]
        # Plain values psycopg adapts as the ORM would; any other field's value is prepped
        # by the field itself (JSON, datetimes made aware, decimals, custom fields).
        self.prep = [not isinstance(field, _PLAIN) for field in self.fields]
        self.now = [
            getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
            for field in self.fields
        ]
        columns = ", ".join(connection.ops.quote_name(field.column) for field in self.fields)
        self.sql = (
            f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({columns})"
            f" VALUES ({', '.join(['%s'] * len(self.fields))})"
            f" RETURNING {connection.ops.quote_name(meta.pk.column)}"
        )

    def values(self, instance, db):
        now = None
        values = []
        for field, prep, is_now in zip(self.fields, self.prep, self.now, strict=True):
            if is_now:
                now = now or timezone.now()
                setattr(instance, field.attname, now)
            value = getattr(instance, field.attname)
            if prep and value is not None:  # None is NULL whatever the field
                value = field.get_db_prep_save(value, db)
            values.append(value)
        return values


_INSERTS: dict[type, _Insert] = {}
_INSERTS_WITH: dict[tuple[type, str], str] = {}
Row = TypeVar("Row", bound=Model)


def _insert_statement(model):
    statement = _INSERTS.get(model)
    if statement is None:
        statement = _INSERTS[model] = _Insert(model)
    return statement


def insert(instance: Row) -> Row:
    """INSERT an unsaved model instance as `create()` would; returns it, saved, with its pk."""
    statement = _insert_statement(type(instance))
    return _run(instance, statement.sql, statement, ())


def insert_with(instance: Row, then: str, then_params: Sequence[Any]) -> Row:
    """`insert(instance)` and, in the same statement, `then`: an INSERT … SELECT … FROM new_row.

    `then` reads the new row's primary key as `new_row.<pk column>` (a task row pointing at
    it, say): two rows for one statement's round trip and per-statement cost. Its
    placeholders take `then_params`, after the row's own values.
    """
    model = type(instance)
    statement = _insert_statement(model)
    sql = _INSERTS_WITH.get((model, then))
    if sql is None:
        pk = connection.ops.quote_name(model._meta.pk.column)
        sql = _INSERTS_WITH[(model, then)] = (
            f"WITH new_row AS ({statement.sql}), then_row AS ({then}) SELECT {pk} FROM new_row"
        )
    return _run(instance, sql, statement, then_params)


def _run(instance, sql, statement, then_params):
    db = connections[DEFAULT_DB_ALIAS]  # the connection itself: `connection` is a proxy
    cursor = kept_cursor(db)
    cursor.execute(sql, [*statement.values(instance, db), *then_params])
    instance.pk = cursor.fetchone()[0]
    instance._state.adding = False
    instance._state.db = db.alias
    return instance


_UPDATES: dict[tuple[Any, ...], str] = {}


def update_by_pk(
    model: type[Model], pk: Any, extra_where: Mapping[str, Any], columns: Mapping[str, Any]
) -> int:
    """UPDATE one row's `columns` (name → plain value) where pk = `pk` and `extra_where` hold.

    `extra_where` maps column names to the values they must have (a compare-and-set); returns
    the number of rows changed. Statements are cached per shape; values are prepped per field.
    """
    meta = model._meta
    key = (model, tuple(columns), tuple(extra_where))
    sql = _UPDATES.get(key)
    db = connections[DEFAULT_DB_ALIAS]
    quote = db.ops.quote_name
    if sql is None:
        assignments = ", ".join(f"{quote(meta.get_field(name).column)} = %s" for name in columns)
        conditions = "".join(
            f" AND {quote(meta.get_field(name).column)} = %s" for name in extra_where
        )
        sql = _UPDATES[key] = (
            f"UPDATE {quote(meta.db_table)} SET {assignments}"
            f" WHERE {quote(meta.pk.column)} = %s{conditions}"
        )
    params = [
        # A related object is written as its key, as the ORM's update() does.
        meta.get_field(name).get_db_prep_save(value.pk if isinstance(value, Model) else value, db)
        for name, value in columns.items()
    ]
    params.append(pk)
    params.extend(extra_where.values())
    cursor = kept_cursor(db)
    cursor.execute(sql, params)
    return cursor.rowcount


def kept_cursor(db):
    """A cursor of `db` kept for its connection's life: the hot path's statements share it.

    A new cursor per statement (`db.cursor()`) builds psycopg's cursor and its adapters'
    caches each time, and looks up a dumper for every parameter again. Where Django logs
    queries (DEBUG, assertNumQueries), or the connection is not open, it is `db.cursor()`.
    """
    kept = db.__dict__.get("_kept_cursor")
    if (
        kept is not None
        and not db.queries_logged
        and db.connection is not None
        and kept.cursor.connection is db.connection
        and not kept.cursor.closed
    ):
        return kept
    cursor = db.cursor()  # connects if need be
    if not db.queries_logged:
        db.__dict__["_kept_cursor"] = cursor
    return cursor

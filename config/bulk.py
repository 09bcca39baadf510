"""Set-based reads and writes for imports: one statement a batch, not one a row.

Django's bulk_create prepares every cell of every row through its field, and bulk_update builds a
CASE with a condition per row for every field; for files of thousands of rows either costs more
Python than the database's own work. These send one array a column, or a list of values joined on
the key, so an import runs at the speed of the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.contrib.contenttypes.fields import GenericForeignKey
from django.db import connection
from django.db.models import Field, ForeignObjectRel, Model
from django.db.models.expressions import RawSQL


def one_array(values: Iterable[Any], sql_type: str = "bigint") -> RawSQL:
    """Values for an `__in` lookup as one array parameter: a batch of 2,000 keys or emails is one
    parameter to send, not 2,000 placeholders for the driver to fill into the query's text."""
    return RawSQL(f"SELECT unnest(%s::{sql_type}[])", [list(values)])  # noqa: S611 (a constant type name)


def _concrete(field: Field[Any, Any] | ForeignObjectRel | GenericForeignKey) -> Field[Any, Any]:
    assert isinstance(field, Field)  # the names given are the model's own columns
    return field


def _column(field: Field[Any, Any]) -> str:
    assert field.column is not None  # a concrete field has its column
    return field.column


def _sql_type(field: Field[Any, Any]) -> str:
    """The column's type in PostgreSQL, as a cast of a parameter."""
    sql_type = field.db_type(connection)
    assert sql_type is not None  # every column written here has one
    return sql_type


def insert_from_arrays(records: Sequence[Model], now: datetime, *, ignore_conflicts: bool = False) -> None:
    """Insert new rows of one model in one `INSERT … SELECT FROM unnest(…)`, and give each its key.

    The models written so hold plain values (keys, dates, numbers, text) that the driver adapts as
    they are; a field set on creation (`auto_now_add`) gets `now`. Like bulk_create, it sends no
    signals; the database's constraints and triggers check every row. With `ignore_conflicts` a row
    a unique constraint refuses is left out, and no record gets its key."""
    if not records:
        return
    model = type(records[0])
    meta = model._meta
    key = meta.pk
    assert key is not None  # every model has one
    columns = [column for column in meta.concrete_fields if not column.primary_key]
    for record in records:
        for column in columns:
            if getattr(column, "auto_now_add", False):
                setattr(record, column.attname, now)
    arrays = [[getattr(record, column.attname) for record in records] for column in columns]
    quote = connection.ops.quote_name
    names = ", ".join(quote(_column(column)) for column in columns)
    unnest = ", ".join(f"%s::{_sql_type(column)}[]" for column in columns)
    # Our own table and column names, quoted; every value is a parameter. Rows are inserted, and
    # their keys returned, in the order of the arrays.
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({names}) "  # noqa: S608
        f"SELECT {names} FROM unnest({unnest}) WITH ORDINALITY AS v({names}, row_in_file) ORDER BY row_in_file "
    )
    if ignore_conflicts:
        with connection.cursor() as cursor:
            cursor.execute(sql + "ON CONFLICT DO NOTHING", arrays)
        return
    sql += f"RETURNING {quote(_column(key))}"
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)
        for record, (pk,) in zip(records, cursor.fetchall(), strict=True):
            record.pk = pk
            record._state.adding = False


def update_from_values(records: Sequence[Model], names: list[str]) -> None:
    """Save these fields of these rows of one model in one `UPDATE … FROM (VALUES …)`."""
    if not records:
        return
    model = type(records[0])
    meta = model._meta
    fields = [_concrete(meta.get_field(name)) for name in names]
    key = meta.pk
    assert key is not None  # every model has one
    columns = [key, *fields]
    row_sql = "(" + ", ".join(f"%s::{_sql_type(field)}" for field in columns) + ")"
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    assignments = ", ".join(f"{quote(_column(field))} = v.{quote(_column(field))}" for field in fields)
    values = ", ".join([row_sql] * len(records))
    names_of_values = ", ".join(quote(_column(field)) for field in columns)
    joined = f"{table}.{quote(_column(key))} = v.{quote(_column(key))}"
    # Our own table and column names, quoted; every value is a parameter.
    sql = f"UPDATE {table} SET {assignments} FROM (VALUES {values}) AS v({names_of_values}) WHERE {joined}"  # noqa: S608
    parameters = [
        field.get_db_prep_save(getattr(record, field.attname), connection) for record in records for field in columns
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)

"""Set-based reads and writes for imports: one statement a batch, not one a row.

Django's bulk_create prepares every cell of every row through its field, and bulk_update builds a
CASE with a condition per row for every field; for files of thousands of rows either costs more
Python than the database's own work. These send one array a column, or a list of values joined on
the key, or (for new rows by the thousand) a COPY stream whose rows psycopg formats in C, so an
import runs at the speed of the database.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.contrib.contenttypes.fields import GenericForeignKey
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BooleanField, F, Field, ForeignObjectRel, Func, Model
from django.db.models.expressions import RawSQL
from django.db.models.sql.compiler import SQLCompiler

from config import data_version


def one_array(values: Iterable[Any], sql_type: str = "bigint") -> RawSQL:
    """Values for an `__in` lookup as one array parameter: a batch of 2,000 keys or emails is one
    parameter to send, not 2,000 placeholders for the driver to fill into the query's text."""
    return RawSQL(f"SELECT unnest(%s::{sql_type}[])", [list(values)])  # noqa: S611 (a constant type name)


class AnyOf(Func):
    """`column = ANY(array)`, a filter on a batch of keys as one parameter: `filter(AnyOf("pk", ids))`.

    Unlike `__in=one_array(…)` (a semi-join on a subquery), this is a condition on the column itself,
    which PostgreSQL answers from the column's index even when its statistics are missing or stale,
    as they are for rows an import has just written in its own transaction. Planned as a join, such a
    batch can meet a sequential scan once per key."""

    output_field = BooleanField()

    def __init__(self, name: str, values: Iterable[Any], sql_type: str = "bigint") -> None:
        super().__init__(F(name))
        self.values = list(values)
        self.sql_type = sql_type

    def as_sql(  # type: ignore[override]
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, list[Any]]:
        column, parameters = compiler.compile(self.source_expressions[0])
        # A constant type name; the keys are one parameter.
        return f"{column} = ANY(%s::{self.sql_type}[])", [*parameters, self.values]


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


def new_keys(model: type[Model], count: int) -> list[int]:
    """`count` keys for new rows of the model, taken in one query from its table's identity sequence.

    Rows then written with `copy_in` need no RETURNING, and rows that refer to them (a new person's
    enrollment, say) can be made before they are written. Like any insert's, a key taken is used
    once: a transaction that rolls back leaves a gap in the sequence, never a key given twice."""
    if count <= 0:
        return []
    meta = model._meta
    key = meta.pk
    assert key is not None  # every model has one
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [connection.ops.quote_name(meta.db_table), _column(key), count],
        )
        return [value for (value,) in cursor.fetchall()]


def copy_in(model: type[Model], names: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write new rows of one model with `COPY … FROM STDIN`: each row a sequence of plain values (keys,
    text, dates, times, numbers, booleans, None) in the order of `names`, the fields' attnames.

    COPY is PostgreSQL's fastest way in: psycopg formats every row in C, where an `INSERT … SELECT
    FROM unnest(…)` has each cell of each array adapted in Python. The database still checks every
    row against the table's constraints, indexes and triggers, and a refused row refuses the whole
    COPY (an IntegrityError or DataError, as an INSERT raises). Every column the model requires must
    be named: Django's defaults are Python's, not the table's, so a column left out would get none.
    Give keys from `new_keys` to refer to the rows; otherwise the table's identity fills them in."""
    meta = model._meta
    fields = [_concrete(meta.get_field(name)) for name in names]
    missing = [
        field.name
        for field in meta.concrete_fields
        if field not in fields and not field.null and not field.primary_key and not field.has_db_default()
    ]
    if missing:
        raise ValueError(f"Rows of {meta.label} copied without {', '.join(missing)}, which the table requires.")
    quote = connection.ops.quote_name
    # Our own table and column names, quoted; the values travel in the COPY stream, never in the SQL.
    sql = f"COPY {quote(meta.db_table)} ({', '.join(quote(_column(field)) for field in fields)}) FROM STDIN"
    with connection.cursor() as cursor:
        connection.validate_no_broken_transaction()
        # The psycopg cursor under Django's wrapper; a refusal is raised when the COPY ends.
        with _logged(sql), connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
    data_version.wrote(meta.db_table, connection.alias)


@contextmanager
def _logged(sql: str) -> Iterator[None]:
    """A COPY goes past Django's cursor wrapper, so it is logged here as the wrapper logs a query:
    query counts (CaptureQueriesContext, `make bench`) see it like any other statement."""
    started = time.monotonic()
    try:
        yield
    finally:
        if connection.queries_logged:
            connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})

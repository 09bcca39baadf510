"""One number that moves whenever the records change: the key of what is cached until the next write.

A page computed from many tables (a person's home) is kept in the cache under the data version it was
computed at, and found again only while the version stands. Every statement that writes to a table of
ours, through any Django connection of any process (web, worker, beat, a command), moves the version:
a bulk insert or a queryset `update()` as much as a model's `save()`, which signals would miss.

The version moves twice for a write: when the statement runs (so a page read later in the same
transaction, or in a test that never commits, is not taken from the cache; once for a run of writes
with no read of the version between them), and again once the transaction commits. The second move
closes the gap in which another request, which read the version after the first move but the records
before the commit, could have kept old figures under the new version: after the commit no request can
hold the version it was computed at.

A COPY goes past Django's execute wrappers: config/bulk.py's `copy_in` reports its table itself.

Writes that every page view may make and that no cached page shows are left out: sessions, and the
access log (with the chain heads it moves), written whenever staff open a student's record.

What cannot be seen here: rows changed from outside Django (psql, a restore). Cached pages therefore also
expire on their own after a few minutes; a restore (accounts/backups.py) moves the version itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created

KEY = "data-version"
# The table a statement writes to, as Django's SQL names it (quoted) or as raw SQL may (bare).
WRITE = re.compile(
    r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?|COPY)\s+"?([\w.]+)"?', re.IGNORECASE
)
UNSEEN_TABLES = frozenset({"django_session", "accounts_accesslog", "accounts_chainhead"})
# The tables written inside `recording()` blocks, innermost last.
_recording: ContextVar[tuple[set[str], ...]] = ContextVar("data_version_recording", default=())


# Whether this process has read the version since it last moved it. The move at a statement serves only
# reads later in the same transaction, which are this process's: while nothing here has read the
# version, a second write need not move it again (a test's factories write hundreds of rows between two
# pages). The move at commit, which other processes rely on, is made whatever this says.
_read_since_moved = True


def current() -> int:
    """The version now: 0 until the first write this cache has seen (or while the cache is unreachable)."""
    global _read_since_moved
    _read_since_moved = True
    return int(cache.get(KEY) or 0)


def move() -> None:
    """Move the version on. A cache that has lost it starts again from a number no page was kept under."""
    global _read_since_moved
    _read_since_moved = False
    try:
        cache.incr(KEY)
    except ValueError:  # no such key: a new or emptied cache
        if not cache.add(KEY, 1, timeout=None):
            cache.incr(KEY)


@contextmanager
def recording() -> Iterator[set[str]]:
    """The names of the tables written to inside the block, sessions and the access log included:

    with data_version.recording() as written:
        apply(upload)
    analyze(written)
    """
    written: set[str] = set()
    token = _recording.set((*_recording.get(), written))
    try:
        yield written
    finally:
        _recording.reset(token)


# In a statement that begins WITH, the writes follow a parenthesis: the main statement after the last CTE,
# or a CTE that writes. A `FOR UPDATE` inside a CTE follows FOR, and is no write.
WRITE_AFTER_WITH = re.compile(r'[()]\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?([\w.]+)"?', re.IGNORECASE)


def _written_tables(sql: str) -> list[str]:
    if re.match(r"\s*WITH\b", sql, re.IGNORECASE):
        found = WRITE_AFTER_WITH.findall(sql)
    else:
        match = WRITE.match(sql)
        found = [match.group(1)] if match else []
    return [name.rsplit(".", 1)[-1] for name in found]


def wrote(table: str, alias: str = DEFAULT_DB_ALIAS) -> None:
    """A statement has written to this table: move the version now, and once more at commit. The
    execute wrapper below calls it for every statement; a COPY, which passes the wrapper by, calls it
    itself (config/bulk.py)."""
    for written in _recording.get():
        written.add(table)
    if table in UNSEEN_TABLES:
        return
    connection = connections[alias]
    if not connection.in_atomic_block:
        move()  # committed as it ran: this is the move at commit
        return
    if _read_since_moved:
        move()
    if not any(entry[1] is move for entry in connection.run_on_commit):
        connection.on_commit(move, robust=True)


def _watch(alias: str) -> Callable[..., Any]:
    def watch(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        result = execute(sql, params, many, context)
        for table in _written_tables(sql) if isinstance(sql, str) else []:
            wrote(table, alias)
        return result

    return watch


def watch_writes(sender: Any, connection: BaseDatabaseWrapper, **_: Any) -> None:
    """Installed on every connection (`connection_created`), in every process; once, though a connection
    that is closed and opened again is announced again."""
    if not getattr(connection, "watches_writes", False):
        connection.execute_wrappers.append(_watch(connection.alias))
        connection.watches_writes = True  # type: ignore[attr-defined]


def install() -> None:
    connection_created.connect(watch_writes, dispatch_uid="config.data_version.watch_writes")

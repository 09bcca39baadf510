"""`manage.py check --deploy`: the database role the app connects as cannot switch off the triggers.

Signed check-offs, evaluations, approved hours and the access log are kept unchanged by PostgreSQL
triggers. A role that is a superuser (`SET session_replication_role = replica` skips every trigger),
that owns the tables (`ALTER TABLE ... DISABLE TRIGGER`) or their trigger functions, or that may
create a table of the same name as one the triggers read (a temporary table is found first) can
change them anyway. README.md's "Database roles" gives the app a role that can do none of this.

Django runs database checks only when asked with `--database`; this one is a deployment check and
looks at the default connection with `--deploy` alone, because that is the question `--deploy` asks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.core.checks import CheckMessage, Info, Tags, register
from django.core.checks import Warning as CheckWarning
from django.db import DEFAULT_DB_ALIAS, connections
from django.db import Error as DatabaseError
from django.db.backends.base.base import BaseDatabaseWrapper

HINT = (
    "Connect the app as the least-privilege role of README.md, section 'Database roles'; run migrate "
    "as the owner role only."
)

# Every role this one is or can become (SET ROLE): attributes are not inherited, but can be taken up.
ROLE = """
SELECT
    current_user,
    (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),
    coalesce(array_agg(role.rolname ORDER BY role.rolname) FILTER (WHERE role.rolsuper), '{}'),
    coalesce(array_agg(role.rolname ORDER BY role.rolname) FILTER (WHERE role.rolreplication), '{}'),
    coalesce(array_agg(role.rolname ORDER BY role.rolname) FILTER (WHERE role.rolbypassrls), '{}')
FROM pg_roles AS role
WHERE pg_has_role(current_user, role.oid, 'MEMBER')
"""
# Tables and functions of the app's schemas that this role owns or may act for the owner of.
OWNED = """
WITH app_schemas AS (SELECT oid FROM pg_namespace WHERE nspname = ANY (current_schemas(false)))
SELECT
    (SELECT count(*) FROM pg_class
      WHERE relnamespace IN (SELECT oid FROM app_schemas) AND relkind IN ('r', 'p')
        AND pg_has_role(current_user, relowner, 'MEMBER')),
    (SELECT count(*) FROM pg_proc
      WHERE pronamespace IN (SELECT oid FROM app_schemas)
        AND pg_has_role(current_user, proowner, 'MEMBER'))
"""
# Where this role may create a table that a trigger function's unqualified name would find first.
SHADOWING = """
SELECT
    has_database_privilege(current_database(), 'TEMPORARY'),
    has_database_privilege(current_database(), 'CREATE'),
    coalesce(array_agg(nspname ORDER BY nspname) FILTER (WHERE has_schema_privilege(oid, 'CREATE')), '{}')
FROM pg_namespace
WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
"""
# Granted on its own with GRANT SET ON PARAMETER (PostgreSQL 15 and later).
REPLICATION_ROLE_SETTABLE = "SELECT has_parameter_privilege('session_replication_role', 'SET')"


@register(Tags.database, Tags.security, deploy=True)
def check_database_role(
    app_configs: Sequence[Any] | None = None, databases: Iterable[str] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """Warn when the app's database role could switch off or get around the triggers on signed records."""
    messages: list[CheckMessage] = []
    for alias in databases if databases is not None else [DEFAULT_DB_ALIAS]:
        messages += role_messages(connections[alias])
    return messages


def role_messages(connection: BaseDatabaseWrapper) -> list[CheckMessage]:
    """What this connection's role may do that the app's role should not."""
    if connection.vendor != "postgresql":
        return []
    try:
        with connection.cursor() as cursor:
            cursor.execute(ROLE)
            role, is_superuser, superusers, replicators, bypassers = cursor.fetchone()
            cursor.execute(OWNED)
            tables, functions = cursor.fetchone()
            cursor.execute(SHADOWING)
            temporary, create_schema, creatable_schemas = cursor.fetchone()
            replication_role_settable = False
            if connection.pg_version >= 150000:  # type: ignore[attr-defined]
                cursor.execute(REPLICATION_ROLE_SETTABLE)
                replication_role_settable = cursor.fetchone()[0]
    except DatabaseError as error:
        return [
            CheckWarning(
                f"Could not check the database role (alias {connection.alias!r}): {error}".strip(),
                hint="Run `manage.py check --deploy` where the database is reachable. " + HINT,
                id="checkoff.W005",
            )
        ]
    if superusers:
        # A superuser can do everything below and more; one warning says it.
        return [
            CheckWarning(
                f"The app connects to the database as {role!r}, "
                + ("a superuser" if is_superuser else f"which can become the superuser {', '.join(superusers)}")
                + ": it can switch every trigger off (session_replication_role) and change signed records.",
                hint=HINT,
                id="checkoff.W001",
            )
        ]
    messages: list[CheckMessage] = []
    if tables or functions:
        messages.append(
            CheckWarning(
                f"The app's database role {role!r} owns, or may act for the owner of, {tables} table(s) and "
                f"{functions} function(s) of the app's schemas: it can disable, drop or rewrite the triggers "
                "that keep signed records unchanged.",
                hint=HINT,
                id="checkoff.W002",
            )
        )
    if replication_role_settable:
        messages.append(
            CheckWarning(
                f"The app's database role {role!r} may SET session_replication_role, which switches every trigger off.",
                hint="REVOKE SET ON PARAMETER session_replication_role FROM the role. " + HINT,
                id="checkoff.W003",
            )
        )
    if temporary or create_schema or creatable_schemas:
        places = [
            *(["temporary tables"] if temporary else []),
            *(["new schemas"] if create_schema else []),
            *(f"schema {name}" for name in creatable_schemas),
        ]
        messages.append(
            CheckWarning(
                f"The app's database role {role!r} may create tables ({', '.join(places)}): a table named like "
                "one that a trigger reads would be found first, and the trigger would let signed records change.",
                hint="REVOKE TEMPORARY, CREATE ON DATABASE and CREATE ON SCHEMA from PUBLIC and the role. " + HINT,
                id="checkoff.W004",
            )
        )
    if replicators:
        messages.append(
            Info(
                f"The app's database role {role!r} can become {', '.join(replicators)}, with REPLICATION: it "
                "can stream every database of the server. The app needs no replication.",
                hint=HINT,
                id="checkoff.I001",
            )
        )
    if bypassers:
        messages.append(
            Info(
                f"The app's database role {role!r} can become {', '.join(bypassers)}, with BYPASSRLS. Checkoff "
                "uses no row-level security today, so this grants nothing yet.",
                hint=HINT,
                id="checkoff.I002",
            )
        )
    return messages

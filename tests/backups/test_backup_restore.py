"""manage.py backup and restore, end to end, as an operator runs them: in their own processes, against
a database of their own on the test server, with real pg_dump and pg_restore.

The demo program is migrated and seeded into a scratch database and backed up once for the module.
The round trip then drops that database and empties the media folders, restores, and finds every
row count, every document's digest and every signed record's chain as they were. The refusals each
restore a damaged archive (a flipped byte, a missing member, a member escaping with ../, a link),
a sound one under another SIGNATURE_KEY, and one into a database that is not empty, and each must
say why and leave the target database and folders exactly as empty as they were.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from psycopg import sql

pytestmark = [pytest.mark.backups, pytest.mark.xdist_group("backups")]

ROOT = Path(__file__).resolve().parent.parent.parent
SERVER = settings.DATABASES["default"]
SIGNATURE_KEY = "backup-test-signature-key-" + "k" * 40


def database_url(name: str) -> str:
    credentials = SERVER["USER"] + (f":{SERVER['PASSWORD']}" if SERVER.get("PASSWORD") else "")
    return f"postgresql://{credentials}@{SERVER['HOST']}:{SERVER['PORT']}/{name}"


def server(name: str = "postgres") -> psycopg.Connection:
    return psycopg.connect(database_url(name), autocommit=True)


def create_database(name: str) -> None:
    with server() as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(name: str) -> None:
    with server() as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def row_counts(name: str) -> dict[str, int]:
    """Every table's rows, counted here and not by the code under test."""
    with server(name) as connection:
        tables = connection.execute(
            "SELECT schemaname, tablename FROM pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"
        ).fetchall()
        counts = {}
        for schema, table in tables:
            (count,) = connection.execute(
                sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
            ).fetchone() or (0,)
            counts[f"{schema}.{table}"] = count
        return counts


def files(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file under the folder: its sha256 and permission bits."""
    return {
        path.relative_to(folder).as_posix(): (
            hashlib.sha256(path.read_bytes()).hexdigest(),
            path.stat().st_mode & 0o777,
        )
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def empty_folder(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)


@dataclass
class Site:
    """One installation: its database and media folders, and how to run manage.py against them."""

    database: str
    media: Path
    private: Path
    environment: dict[str, str]

    def manage(self, *arguments: str, **environment: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *arguments],
            cwd=ROOT,
            env={**self.environment, **environment},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def must(self, *arguments: str) -> str:
        result = self.manage(*arguments)
        assert result.returncode == 0, f"manage.py {' '.join(arguments)} failed:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def is_untouched(self) -> None:
        """Nothing in the database, nothing in the folders."""
        assert row_counts(self.database) == {}
        assert files(self.media) == {}
        assert files(self.private) == {}


def make_site(root: Path, database: str) -> Site:
    create_database(database)
    media, private = root / "media", root / "private"
    media.mkdir(parents=True)
    private.mkdir(parents=True)
    environment = {
        **os.environ,
        # Everything the settings read is given: another run's or the developer's values must not leak in.
        "DATABASE_URL": database_url(database),
        "REDIS_URL": settings.REDIS_URL,
        "SECRET_KEY": "backup-test-secret-key-" + "s" * 40,
        "SIGNATURE_KEY": SIGNATURE_KEY,
        "DEBUG": "true",
        "MEDIA_ROOT": str(media),
        "PRIVATE_MEDIA_ROOT": str(private),
        "STATIC_ROOT": str(root / "static"),
        "DEMO_MAILBOX_DIR": str(root / "mail"),
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "FAST_PASSWORD_HASHER": "1",
    }
    return Site(database=database, media=media, private=private, environment=environment)


@dataclass
class Demo:
    site: Site
    archive: Path
    counts: dict[str, int]
    documents: dict[str, tuple[str, int]]
    uploads: dict[str, tuple[str, int]]


@pytest.fixture(scope="module")
def databases() -> Iterator[list[str]]:
    """The scratch databases this module creates, every one dropped at the end."""
    names: list[str] = []
    yield names
    for name in names:
        drop_database(name)


@pytest.fixture(scope="module")
def demo(databases: list[str], tmp_path_factory: pytest.TempPathFactory) -> Demo:
    name = f"backup_test_{uuid.uuid4().hex[:10]}"
    databases.append(name)
    site = make_site(tmp_path_factory.mktemp("source"), name)
    site.must("migrate", "--verbosity", "0")
    site.must("seed_demo")
    documents = files(site.private)
    assert any(path.startswith("compliance/") for path in documents), "the demo no longer uploads documents"
    # Nothing in the app writes to MEDIA_ROOT yet; a file there must still go and come back.
    (site.media / "uploads").mkdir()
    (site.media / "uploads" / "letterhead.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(512))
    archive = site.private.parent / "checkoff.tar"
    site.must("backup", str(archive))
    return Demo(site, archive, row_counts(name), documents, files(site.media))


@pytest.fixture(scope="module")
def empty_site(databases: list[str], tmp_path_factory: pytest.TempPathFactory) -> Site:
    """A new server's empty database and folders, which a refused restore must leave empty."""
    name = f"backup_test_{uuid.uuid4().hex[:10]}"
    databases.append(name)
    return make_site(tmp_path_factory.mktemp("target"), name)


# --- The round trip -------------------------------------------------------------------------


def test_the_demo_comes_back_whole(demo: Demo) -> None:
    site = demo.site
    assert demo.archive.stat().st_mode & 0o777 == 0o600
    assert sum(demo.counts.values()) > 1000
    with tarfile.open(demo.archive) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))
    assert manifest["tables"] == demo.counts
    assert set(manifest["files"]) == {"database.dump"} | {f"private/{name}" for name in demo.documents} | {
        f"media/{name}" for name in demo.uploads
    }

    drop_database(site.database)
    create_database(site.database)
    empty_folder(site.private)
    empty_folder(site.media)
    site.is_untouched()

    restored = site.must("restore", str(demo.archive))

    # restore ends with verify_records, whose report it prints: every chain of every signed record holds.
    assert "curriculum_signature: " in restored and ": 0 broken" in restored
    assert row_counts(site.database) == demo.counts
    assert files(site.private) == demo.documents
    assert all(mode == 0o600 for _digest, mode in files(site.private).values())
    assert {name: digest for name, (digest, _mode) in files(site.media).items()} == {
        name: digest for name, (digest, _mode) in demo.uploads.items()
    }

    # The verification is no formality: a signed record altered in the restored database fails it.
    with server(site.database) as connection:
        connection.execute("SET session_replication_role = replica")
        connection.execute(
            "UPDATE curriculum_signature SET meaning = 'Tampered' WHERE id = (SELECT min(id) FROM curriculum_signature)"
        )
    tampered = site.manage("verify_records")
    assert tampered.returncode == 1
    assert "were changed, removed or added outside the app" in tampered.stderr
    assert any(line.startswith("curriculum_signature") and "edited" in line for line in tampered.stdout.splitlines())


def test_a_second_backup_refuses_to_overwrite_the_first(demo: Demo) -> None:
    before = demo.archive.read_bytes()
    refused = demo.site.manage("backup", str(demo.archive))
    assert refused.returncode == 1
    assert "exists already" in refused.stderr and "--force" in refused.stderr
    assert demo.archive.read_bytes() == before
    assert sorted(path.name for path in demo.archive.parent.iterdir() if path.name.startswith(".")) == []


def test_a_database_that_is_not_empty_is_refused(demo: Demo, empty_site: Site) -> None:
    """The demo's database holds tables whatever the round trip did; the target's folders stay empty."""
    into_demo = Site(demo.site.database, empty_site.media, empty_site.private, demo.site.environment)
    into_demo.environment = {
        **demo.site.environment,
        "MEDIA_ROOT": str(empty_site.media),
        "PRIVATE_MEDIA_ROOT": str(empty_site.private),
    }
    counts = row_counts(demo.site.database)
    refused = into_demo.manage("restore", str(demo.archive))
    assert refused.returncode == 1
    assert "is not empty" in refused.stderr and "Nothing was changed" in refused.stderr
    assert row_counts(demo.site.database) == counts
    assert files(empty_site.private) == {} and files(empty_site.media) == {}


# --- Damaged archives -----------------------------------------------------------------------


def rewrite(source: Path, target: Path, change: Callable[[list[tuple[tarfile.TarInfo, bytes]]], None]) -> None:
    """A copy of the archive with its members (header, data) changed by `change`."""
    with tarfile.open(source) as archive:
        members = [(member, archive.extractfile(member).read()) for member in archive.getmembers()]
    change(members)
    with tarfile.open(target, "w") as archive:
        for member, data in members:
            archive.addfile(member, io.BytesIO(data) if member.isfile() else None)


def flip_a_byte_of_the_dump(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)
    with tarfile.open(source) as archive:
        dump = archive.getmember("database.dump")
    with open(target, "r+b") as file:
        file.seek(dump.offset_data + dump.size // 2)
        byte = file.read(1)
        file.seek(-1, os.SEEK_CUR)
        file.write(bytes([byte[0] ^ 0x01]))


def drop_a_document(source: Path, target: Path) -> None:
    def change(members: list[tuple[tarfile.TarInfo, bytes]]) -> None:
        index = next(i for i, (member, _data) in enumerate(members) if member.name.startswith("private/"))
        del members[index]

    rewrite(source, target, change)


ESCAPEE = f"escaped-{uuid.uuid4().hex}"


def add_a_member_escaping_with_dot_dot(source: Path, target: Path) -> None:
    def change(members: list[tuple[tarfile.TarInfo, bytes]]) -> None:
        member = tarfile.TarInfo(f"private/../../{ESCAPEE}")
        member.size = 5
        members.insert(0, (member, b"owned"))

    rewrite(source, target, change)


def add_a_link(source: Path, target: Path) -> None:
    def change(members: list[tuple[tarfile.TarInfo, bytes]]) -> None:
        member = tarfile.TarInfo("private/compliance/link.pdf")
        member.type = tarfile.SYMTYPE
        member.linkname = "/etc/passwd"
        members.insert(0, (member, b""))

    rewrite(source, target, change)


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (flip_a_byte_of_the_dump, "database.dump: its content does not match the digest in the manifest"),
        (drop_a_document, "the manifest lists it, but the archive does not hold it"),
        (add_a_member_escaping_with_dot_dot, f"private/../../{ESCAPEE}: its name leaves"),
        (add_a_link, "private/compliance/link.pdf: it is a link, folder or device"),
    ],
    ids=["flipped-byte", "missing-member", "dot-dot-member", "symlink-member"],
)
def test_a_damaged_archive_is_refused_and_changes_nothing(
    demo: Demo, empty_site: Site, tmp_path: Path, damage: Callable[[Path, Path], None], expected: str
) -> None:
    damaged = tmp_path / "damaged.tar"
    damage(demo.archive, damaged)
    empty_site.is_untouched()

    refused = empty_site.manage("restore", str(damaged))

    assert refused.returncode == 1, refused.stdout
    assert "The archive is damaged or is not a Checkoff backup" in refused.stderr
    assert expected in refused.stderr
    assert "Nothing was changed" in refused.stderr
    assert "Traceback" not in refused.stderr
    empty_site.is_untouched()
    for folder in (Path(tempfile.gettempdir()), empty_site.private.parent, tmp_path):
        assert not (folder / ESCAPEE).exists()


def test_another_signature_key_is_refused_before_anything_is_restored(demo: Demo, empty_site: Site) -> None:
    refused = empty_site.manage("restore", str(demo.archive), SIGNATURE_KEY="another-key-" + "x" * 40)
    assert refused.returncode == 1
    assert "SIGNATURE_KEY is not the one that sealed the records" in refused.stderr
    empty_site.is_untouched()

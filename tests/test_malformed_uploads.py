"""Hostile uploads, on every page and command that reads a spreadsheet: the roster import, the
cohorts and courses imports, the exam results import and the graduate outcomes import.

Each file gets a clear message (never a server error), writes no student, enrollment, cohort,
course, result or outcome, and no message quotes the huge content it was given."""

from __future__ import annotations

import functools
import html
import io
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import Invitation, User
from certifications.models import Credential, ExamAttempt, JobPlacement, ResultImport
from curriculum.models import Cohort, Course, Enrollment, RosterImport
from tests import hostile_files
from tests.imports import post_applying

HUGE = "Z" * 200_000
ECHO = HUGE[:60]  # a message may quote the first 50 characters of a cell, never more


@dataclass(frozen=True)
class Importer:
    name: str
    upload_url: str
    command: str
    header: tuple[str, ...]
    row: tuple[str, ...]

    def csv(self, *rows: tuple[str, ...], header: str | None = None) -> bytes:
        lines = [header if header is not None else ",".join(self.header)]
        lines += [",".join(f'"{cell}"' if "," in cell or "\n" in cell else cell for cell in row) for row in rows]
        return ("\r\n".join(lines) + "\r\n").encode()

    def with_second_cell(self, text: str) -> tuple[str, ...]:
        return (self.row[0], text, *self.row[2:])


IMPORTERS = {
    "roster": Importer(
        "roster",
        "curriculum:roster-import",
        "import_roster",
        ("email", "first_name", "last_name", "cohort", "admitted_on"),
        ("ann@school.test", "Ann", "Lee", "2026-FALL", "2026-01-05"),
    ),
    "cohorts": Importer(
        "cohorts",
        "curriculum:cohort-import",
        "import_cohorts",
        ("code", "name", "starts_on", "expected_graduation_on"),
        ("2026-FALL", "Fall 2026", "2026-09-01", "2027-06-30"),
    ),
    "courses": Importer(
        "courses",
        "curriculum:course-import",
        "import_courses",
        ("code", "title", "hours"),
        ("MA101", "Anatomy and Physiology", "90"),
    ),
    "exam_results": Importer(
        "exam_results",
        "certifications:exam-import",
        "import_exam_results",
        ("email", "credential", "taken_on", "result"),
        ("ann@school.test", "CMA", "2025-01-10", "pass"),
    ),
    "graduate_outcomes": Importer(
        "graduate_outcomes",
        "certifications:outcomes-import",
        "import_graduate_outcomes",
        ("email", "status"),
        ("ann@school.test", "in_field"),
    ),
}


@dataclass(frozen=True)
class Hostile:
    file_name: str
    build: Callable[[Importer], bytes]
    message: str
    row_error: bool = False  # the file is read; the row is refused by row and column


@functools.cache
def _bomb() -> bytes:
    return hostile_files.zip_bomb(500 * hostile_files.MB)


@functools.cache
def _too_many_rows(importer: Importer) -> bytes:
    rows = [(f"s{number}@school.test", *importer.row[1:]) for number in range(20_001)]
    return importer.csv(*rows)


HOSTILE = {
    "zip bomb": Hostile("data.xlsx", lambda importer: _bomb(), "The workbook unpacks to more than 50 MB"),
    "CSV cell over 128 KiB": Hostile(
        "data.csv",
        lambda importer: importer.csv(importer.with_second_cell(HUGE)),
        "is 200,000 characters long; a cell holds at most 10,000",
        row_error=True,
    ),
    "NUL in a cell": Hostile(
        "data.csv",
        lambda importer: importer.csv(importer.with_second_cell("A\x00B")),
        "holds a NUL character (a zero byte), which is not text",
        row_error=True,
    ),
    "NUL in the header": Hostile(
        "data.csv",
        lambda importer: importer.csv(importer.row, header="em\x00ail," + ",".join(importer.header[1:])),
        "The header row holds a NUL character",
    ),
    "invalid UTF-8": Hostile(
        "data.csv",
        lambda importer: importer.csv(importer.row)[:-2] + b"\xff\xfe\xe9\r\n",
        "The file is not UTF-8 text (from line 2).",
    ),
    "an empty file": Hostile("data.csv", lambda importer: b"", "empty"),
    "a header only": Hostile(
        "data.csv", lambda importer: importer.csv(), "The file has a header row but no rows below it."
    ),
    "a binary file named .csv": Hostile(
        "data.csv",
        lambda importer: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8,
        "The file is not UTF-8 text (from line 1).",
    ),
    "20,001 rows": Hostile(
        "data.csv", _too_many_rows, "The file has more than 20,000 rows below the header. Split it into smaller files."
    ),
    "an XLSX with a huge cell": Hostile(
        "data.xlsx",
        lambda importer: hostile_files.inline_workbook([list(importer.header), list(importer.with_second_cell(HUGE))]),
        "is 200,000 characters long; a cell holds at most 10,000",
        row_error=True,
    ),
}


def written() -> dict[str, int]:
    """Every kind of row an import writes."""
    return {
        "users": User.objects.count(),
        "enrollments": Enrollment.objects.count(),
        "cohorts": Cohort.objects.count(),
        "courses": Course.objects.count(),
        "invitations": Invitation.objects.count(),
        "exam attempts": ExamAttempt.objects.count(),
        "credentials": Credential.objects.count(),
        "job placements": JobPlacement.objects.count(),
    }


def uploads() -> int:
    return RosterImport.objects.count() + ResultImport.objects.count()


@pytest.mark.parametrize("case", HOSTILE, ids=str)
@pytest.mark.parametrize("importer", IMPORTERS, ids=str)
def test_a_hostile_upload_gets_a_clear_message_and_writes_nothing(client, cohort, dana, importer, case):
    importer_, hostile = IMPORTERS[importer], HOSTILE[case]
    client.force_login(dana)
    before = written()

    response = client.post(
        reverse(importer_.upload_url, args=[cohort.program.code]),
        {"file": SimpleUploadedFile(hostile.file_name, hostile.build(importer_))},
    )

    assert response.status_code < 500
    if hostile.row_error:
        assert response.status_code == 302, "the file is read; its bad row waits in the preview"
        preview = client.get(response.url)
        apply_url = response.url.rstrip("/") + "/apply/"
        applied = post_applying(client, apply_url, follow=True)
        pages = [preview, applied]
        assert preview.status_code == 200
        assert applied.status_code == 200
        assert "Nothing was imported" in html.unescape(applied.content.decode())
    else:
        assert response.status_code == 200
        assert uploads() == 0, "a file that cannot be read is not kept"
        pages = [response]
    text = html.unescape(pages[0].content.decode())
    assert hostile.message in text
    for page in pages:
        assert ECHO not in page.content.decode()
    assert written() == before


@pytest.mark.parametrize("case", HOSTILE, ids=str)
@pytest.mark.parametrize("importer", IMPORTERS, ids=str)
def test_a_hostile_file_on_the_command_line_gets_a_clear_message_and_writes_nothing(tmp_path, cohort, importer, case):
    importer_, hostile = IMPORTERS[importer], HOSTILE[case]
    path = tmp_path / hostile.file_name
    path.write_bytes(hostile.build(importer_))
    stdout, stderr = io.StringIO(), io.StringIO()
    before = written()

    with pytest.raises(CommandError) as refusal:
        call_command(importer_.command, str(path), program=cohort.program.code, stdout=stdout, stderr=stderr)

    output = "\n".join([str(refusal.value), stdout.getvalue(), stderr.getvalue()])
    assert hostile.message in output
    assert ECHO not in output
    assert written() == before

"""The reader every import shares (curriculum/spreadsheets.py): what it refuses, and how it says so."""

from __future__ import annotations

import time
import tracemalloc
from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curriculum import roster, spreadsheets
from curriculum.spreadsheets import MAX_CELL_CHARACTERS, MAX_ROWS, SheetRow, UnreadableFile
from tests import hostile_files

HEADER = "email,first_name,last_name,cohort,admitted_on"
ROW = "ann@school.test,Ann,Lee,2026-FALL,2026-01-05"


def read(content: bytes, file_name: str = "roster.csv") -> list[SheetRow]:
    return list(spreadsheets.read_rows(content, file_name, roster.ROSTER_FORMAT))


def refusal(content: bytes, file_name: str = "roster.csv") -> str:
    with pytest.raises(UnreadableFile) as refused:
        read(content, file_name)
    return str(refused.value)


def roster_workbook(rows: list[list[Any]]) -> bytes:
    return hostile_files.workbook([HEADER.split(","), *rows])


# --- What reads ---------------------------------------------------------------------------


def test_it_reads_each_row_as_text_by_column_with_its_spreadsheet_row_number():
    rows = read(f"{HEADER}\r\n{ROW}\r\n,,,,\r\n{ROW.replace('ann', 'bo')}\r\n".encode())

    assert [(row.line, row.cells["email"], row.errors) for row in rows] == [
        (2, "ann@school.test", []),
        (4, "bo@school.test", []),
    ]


def test_a_byte_order_mark_and_crlf_line_ends_are_read_as_excel_saves_them():
    rows = read(f"\ufeff{HEADER}\r\n{ROW}\r\n".encode())

    assert rows[0].cells == {
        "email": "ann@school.test",
        "first_name": "Ann",
        "last_name": "Lee",
        "cohort": "2026-FALL",
        "admitted_on": "2026-01-05",
    }


def test_a_workbook_gives_its_dates_and_whole_numbers_as_text():
    content = roster_workbook([["ann@school.test", 1001, 12.5, datetime(2026, 1, 5, 0, 0), date(2026, 1, 6)]])

    (row,) = read(content, "roster.xlsx")

    assert row.cells == {
        "email": "ann@school.test",
        "first_name": "1001",
        "last_name": "12.5",
        "cohort": "2026-01-05",
        "admitted_on": "2026-01-06",
    }


def test_a_row_is_stored_and_read_back_as_json():
    (row,) = read(f"{HEADER}\n{ROW},surplus\n".encode())

    assert SheetRow.from_json(row.as_json()) == row
    assert [str(error) for error in row.errors] == ["Row 2, row: has more cells than the header has columns"]


# --- Cells --------------------------------------------------------------------------------


def test_a_csv_cell_over_128_kib_is_an_error_of_its_row_and_column_not_of_the_file():
    huge = "Z" * 200_000
    (row,) = read(f'{HEADER}\nann@school.test,"{huge}",Lee,2026-FALL,2026-01-05\n'.encode())

    assert [str(error) for error in row.errors] == [
        "Row 2, first_name: is 200,000 characters long; a cell holds at most 10,000"
    ]
    assert row.cells["first_name"] == "", "the cell is not kept"


def test_a_cell_of_exactly_the_limit_is_read():
    (row,) = read(f"{HEADER}\nann@school.test,{'a' * MAX_CELL_CHARACTERS},Lee,2026-FALL,2026-01-05\n".encode())

    assert row.errors == []


def test_a_nul_in_a_cell_is_an_error_of_its_row_and_column():
    (row,) = read(f"{HEADER}\nann@school.test,A\x00nn,Lee,2026-FALL,2026-01-05\n".encode())

    assert [str(error) for error in row.errors] == [
        "Row 2, first_name: holds a NUL character (a zero byte), which is not text"
    ]


def test_a_workbook_cell_over_the_limit_is_an_error_of_its_row_and_column():
    content = roster_workbook([["ann@school.test", "Ann", "Z" * 20_000, "2026-FALL", "2026-01-05"]])

    (row,) = read(content, "roster.xlsx")

    assert [str(error) for error in row.errors] == [
        "Row 2, last_name: is 20,000 characters long; a cell holds at most 10,000"
    ]


def test_one_long_shared_string_in_every_cell_is_refused_by_the_total_of_text(monkeypatch):
    monkeypatch.setattr(spreadsheets, "MAX_TEXT_CHARACTERS", 100_000)
    long_name = "n" * 9_000
    content = roster_workbook([[f"s{n}@school.test", long_name, long_name, "C", "2026-01-05"] for n in range(10)])

    assert "more than 100,000 characters of text" in refusal(content, "roster.xlsx")


# --- Files refused whole ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"  \r\n\r\n", "The file is empty."),
        (f"{HEADER}\n".encode(), "The file has a header row but no rows below it."),
        (f"{HEADER}\n,,,,\n\n".encode(), "The file has a header row but no rows below it."),
        (f"{ROW}\n{ROW}\n".encode(), "The first row is not a header row: it names none of the columns"),
        (f"\n{HEADER}\n{ROW}\n".encode(), "The first row is empty: it must be the header row"),
        (f"email,first\x00name\n{ROW}\n".encode(), "The header row holds a NUL character"),
        (f"{HEADER}\nJos\xe9,A\n".encode("latin-1"), "The file is not UTF-8 text (from line 2)."),
        ("email\n".encode("utf-16"), "The file is UTF-16 text"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "The file is not UTF-8 text (from line 1)."),
        (hostile_files.workbook([["email"]]), "a zipped file, such as an .xlsx workbook, not CSV text"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "an Excel .xls workbook or a password-protected file"),
    ],
)
def test_a_csv_that_cannot_be_read_is_refused_with_what_is_wrong(content, message):
    assert message in refusal(content)


def test_more_rows_than_the_limit_are_refused_before_any_is_checked():
    rows = "\n".join(f"s{n}@school.test,A,B,C,2026-01-05" for n in range(MAX_ROWS + 1))

    assert refusal(f"{HEADER}\n{rows}\n".encode()) == (
        "The file has more than 20,000 rows below the header. Split it into smaller files."
    )


def test_exactly_the_limit_of_rows_is_read():
    rows = "\n".join(f"s{n}@school.test,A,B,C,2026-01-05" for n in range(MAX_ROWS))

    assert len(read(f"{HEADER}\n{rows}\n".encode())) == MAX_ROWS


def test_unknown_columns_are_named_short_and_few():
    header = ",".join([HEADER, "x" * 5_000, *(f"extra{n}" for n in range(30))])

    message = refusal(f"{header}\n{ROW}\n".encode())

    assert f"Unknown columns: {'x' * 50}…, extra0," in message
    assert "and 21 more" in message
    assert "x" * 51 not in message


def test_a_file_over_the_upload_limit_is_refused_unread(settings):
    settings.ROSTER_UPLOAD_MAX_BYTES = 1024

    assert refusal(f"{HEADER}\n{ROW}\n".encode() * 100) == "The file is larger than 0 MB."


def test_a_file_named_neither_csv_nor_xlsx_is_refused():
    assert refusal(f"{HEADER}\n{ROW}\n".encode(), "roster.numbers") == "The file must be a .csv or .xlsx file."


# --- Workbooks refused before openpyxl opens them ----------------------------------------


def test_a_zip_bomb_is_refused_in_under_two_seconds_without_unpacking_it():
    bomb = hostile_files.zip_bomb(500 * hostile_files.MB)
    assert len(bomb) < 2 * hostile_files.MB

    tracemalloc.start()
    started = time.perf_counter()
    message = refusal(bomb, "roster.xlsx")
    elapsed = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert message.startswith("The workbook unpacks to more than 50 MB")
    assert elapsed < 2
    assert peak < 5 * hostile_files.MB


def test_a_zip_bomb_whose_header_understates_its_size_fails_as_soon_as_it_passes_that_size():
    """The headers say 5 MB (under every limit, 3:1): unpacking stops at 5 MB, where the CRC fails."""
    bomb = hostile_files.zip_bomb(500 * hostile_files.MB, declared_size=5 * hostile_files.MB)

    tracemalloc.start()
    started = time.perf_counter()
    message = refusal(bomb, "roster.xlsx")
    elapsed = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert message == "The file is not a readable .xlsx workbook."
    assert elapsed < 2
    assert peak < 5 * hostile_files.MB


def test_a_part_compressed_more_than_a_workbook_ever_is_refused():
    bomb = hostile_files.zip_bomb(40 * hostile_files.MB)

    assert "compressed more than 100 to one" in refusal(bomb, "roster.xlsx")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a zip file", "The file is not a readable .xlsx workbook."),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "password-protected, or it is an old Excel .xls file"),
        (
            hostile_files.archive([hostile_files.Part.of("word/document.xml", b"<w/>")]),
            "The file is a zip archive, not an Excel workbook.",
        ),
        (hostile_files.workbook_with({"xl/vbaProject.bin": b"\x00" * 64}), "The workbook holds macros (.xlsm)."),
        (
            hostile_files.workbook_with(
                {"xl/sharedStrings.xml": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><sst/>'}
            ),
            "declares an XML document type",
        ),
    ],
)
def test_a_workbook_that_is_not_a_plain_xlsx_is_refused(content, message):
    assert message in refusal(content, "roster.xlsx")


def test_a_workbook_with_more_cells_than_a_full_file_has_is_refused(monkeypatch):
    monkeypatch.setattr(spreadsheets, "MAX_WORKBOOK_CELLS", 50)
    content = roster_workbook([[f"s{n}@school.test", "A", "B", "C", "2026-01-05"] for n in range(20)])

    assert "more than 50 cells or texts" in refusal(content, "roster.xlsx")


def test_a_workbook_with_a_cell_far_past_the_last_row_is_refused_without_reading_every_row_between():
    sheet = (
        hostile_files.SHEET_START
        + b'<row r="1"><c r="A1" t="inlineStr"><is><t>email</t></is></c></row>'
        + b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x@y.z</t></is></c></row>'
        + hostile_files.SHEET_END
    )
    content = hostile_files.workbook_with({hostile_files.SHEET: sheet})

    started = time.perf_counter()
    with pytest.raises(UnreadableFile, match="more than 20,000 rows"):
        list(spreadsheets.read_rows(content, "r.xlsx", spreadsheets.FileFormat(("email",), (), "%(columns)s")))
    assert time.perf_counter() - started < 2


def test_quoting_a_cell_keeps_fifty_characters_and_shows_control_characters_as_such():
    assert spreadsheets.quoted("short") == "short"
    assert spreadsheets.quoted("y" * 10_000) == "y" * 50 + "…"
    assert spreadsheets.quoted("a\x00b\nc") == "a\ufffdb\ufffdc"


# --- Any text at all ----------------------------------------------------------------------

CSV_PIECES = st.sampled_from(
    [",", '"', "\n", "\r\n", "\r", "\x00", "\ufeff", " ", "email", "cohort", "2026-01-05", "@", "é", "\u2028"]
)
CELL_TEXT = st.lists(st.one_of(CSV_PIECES, st.text(max_size=5)), max_size=40).map("".join)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header=st.lists(st.sampled_from([*roster.ROSTER_FORMAT.columns, "", "x"]), max_size=12), body=CELL_TEXT)
def test_any_text_after_any_header_reads_as_rows_or_is_refused_whole(header, body):
    content = (",".join(header) + "\n" + body).encode("utf-8", "surrogatepass")
    try:
        rows = read(content)
    except UnreadableFile as refused:
        assert len(str(refused)) < 1_000
        return
    for row in rows:
        assert set(row.cells) <= set(roster.ROSTER_FORMAT.columns)
        assert all("\x00" not in text and len(text) <= MAX_CELL_CHARACTERS for text in row.cells.values())


@settings(max_examples=100, deadline=None)
@given(content=st.binary(max_size=300), name=st.sampled_from(["r.csv", "r.xlsx"]))
def test_any_bytes_read_as_rows_or_are_refused_whole(content, name):
    try:
        rows = read(content, name)
    except UnreadableFile as refused:
        assert str(refused)
        return
    assert all(row.line >= 2 and all(isinstance(text, str) for text in row.cells.values()) for row in rows)

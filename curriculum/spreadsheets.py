"""One reader for every uploaded spreadsheet: roster, exam results and graduate outcomes files.

A file arrives from anyone who can reach an upload page, so it is read as hostile: whatever could
cost unbounded time or memory is refused before or while parsing, with a message that names the
problem (and the row and column of a cell), and no message quotes more than a few dozen characters
of what the file holds. The limits:

- the file: at most `ROSTER_UPLOAD_MAX_BYTES` (20 MB), and at most `MAX_ROWS` rows below the
  header, blank ones included;
- a cell: at most `MAX_CELL_CHARACTERS`; all cells together at most `MAX_TEXT_CHARACTERS` (a
  workbook can repeat one long shared string in every cell);
- CSV: UTF-8 text (a byte order mark and CRLF line ends are fine), no NUL character;
- XLSX: a zip whose parts unpack to at most `MAX_WORKBOOK_BYTES`, checked part by part while
  streaming before openpyxl opens it (a header that understates a part's size fails its CRC rather
  than inflate), no part compressed more than `MAX_COMPRESSION_RATIO` to one, at most
  `MAX_WORKBOOK_CELLS` cells and `MAX_SHARED_STRINGS` shared strings, no DTD, no password, no
  macros; openpyxl then reads the first sheet in read-only mode, its first `MAX_COLUMNS` columns.

Cells reach the formats as text: a workbook's dates as YYYY-MM-DD, whole numbers without a decimal
point. So every format checks one kind of value, and a preview can be stored as JSON.
"""

from __future__ import annotations

import csv
import io
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

MAX_ROWS = 20_000
MAX_CELL_CHARACTERS = 10_000
MAX_TEXT_CHARACTERS = 20_000_000
MAX_COLUMNS = 100  # the formats have at most nine; a workbook's cells further right are not read
MAX_WORKBOOK_BYTES = 50 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
RATIO_CHECKED_FROM_BYTES = 1024 * 1024  # a small part may compress well without costing anything
MAX_WORKBOOK_PARTS = 1_000
# openpyxl parses some 40,000 cells or shared strings a second: a full file (20,001 rows of the widest
# format's ten columns) has 200,010 of each at most, so these bound the time a workbook can take.
MAX_WORKBOOK_CELLS = 250_000
MAX_SHARED_STRINGS = 250_000
# How an element starts, with or without a namespace prefix (<c r="A1">, <x:c r="A1">, <si>, <x:si>).
CELL_STARTS = (b"<c ", b"<c>", b":c ")
SHARED_STRING_STARTS = (b"<si>", b"<si ", b":si>")
QUOTED_CHARACTERS = 50
UNPACK_CHUNK_BYTES = 64 * 1024
UNKNOWN_COLUMNS_NAMED = 10

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and every password-protected Office file
ZIP_SIGNATURE = b"PK\x03\x04"
UTF16_BYTE_ORDER_MARKS = (b"\xff\xfe", b"\xfe\xff")
DTD_MARKERS = (b"<!DOCTYPE", b"<!ENTITY")  # a spreadsheet never needs one; entity expansion can
ENCRYPTED_FLAG = 0x1


class UnreadableFile(ValueError):
    """The file as a whole cannot be read: its type, encoding, size, header or shape is wrong."""


@dataclass(frozen=True)
class FileFormat:
    """The columns of one interchange format.

    `unknown_message` has %(columns)s (the unknown ones) and %(known)s (every column of the format)."""

    required: tuple[str, ...]
    optional: tuple[str, ...]
    unknown_message: StrOrPromise

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


@dataclass
class RowError:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return _("Row %(line)s, %(column)s: %(message)s") % {
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }

    def as_json(self) -> list[Any]:
        return [self.line, self.column, self.message]

    @classmethod
    def from_json(cls, data: list[Any]) -> RowError:
        line, column, message = data
        return cls(line=line, column=column, message=message)


@dataclass
class SheetRow:
    """One row below the header as read: its cells as text by column, and what is wrong with them.

    A row with errors here (a cell too long, a NUL, cells past the header) is not checked further."""

    line: int
    cells: dict[str, str]
    errors: list[RowError] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"line": self.line, "cells": self.cells, "errors": [error.as_json() for error in self.errors]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SheetRow:
        return cls(
            line=data["line"], cells=data["cells"], errors=[RowError.from_json(error) for error in data["errors"]]
        )


class RowsPlan:
    """What an import of rows would do: each row with its action and its errors."""

    rows: list[Any]  # each with .action and .errors

    @property
    def errors(self) -> list[RowError]:
        return [error for row in self.rows for error in row.errors]

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)


class PreviewChanged(ValidationError):
    """Nothing was written: planned again at apply time, some rows would do other than the preview
    showed, because the records changed since. The new preview is stored."""

    def __init__(self, changed_rows: int) -> None:
        self.changed_rows = changed_rows
        super().__init__(
            ngettext(
                "Nothing was imported: the records changed since the preview, and %(count)s row would now do "
                "something else. The preview now shows what the file would do; check it and import again.",
                "Nothing was imported: the records changed since the preview, and %(count)s rows would now do "
                "something else. The preview now shows what the file would do; check it and import again.",
                changed_rows,
            )
            % {"count": changed_rows}
        )


def rows_changed(previewed: list[dict[str, Any]] | None, planned: list[dict[str, Any]]) -> int:
    """How many rows of a plan (as JSON) differ from the previewed one."""
    before = {row["line"]: row for row in previewed or []}
    return sum(1 for row in planned if before.get(row["line"]) != row)


def preview_expired_message() -> str:
    return _("This preview has expired (a preview can be imported for %(hours)s hours). Upload the file again.") % {
        "hours": settings.IMPORT_PREVIEW_HOURS
    }


def json_value(value: Any) -> Any:
    """A planned value as a stored preview keeps it: dates as ISO text, decimals as text, tuples as
    lists; each importer's own reader turns them back by column."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def quoted(value: str) -> str:
    """A cell's text as a message may quote it: its first 50 characters, then an ellipsis.

    A file may hold a cell of megabytes; echoing it would make a page or a log as large."""
    shown = value[:QUOTED_CHARACTERS]
    shown = "".join(character if character.isprintable() else "\ufffd" for character in shown)
    return shown + "…" if len(value) > QUOTED_CHARACTERS else shown


def _number(value: int) -> str:
    return number_format(value, force_grouping=True)


def _too_large() -> str:
    return _("The file is larger than %(limit)s MB.") % {"limit": settings.ROSTER_UPLOAD_MAX_BYTES // (1024 * 1024)}


def read_file(path: Path) -> bytes:
    """The bytes of a file named on the command line; a file over the upload limit is refused unread."""
    with path.open("rb") as handle:
        content = handle.read(settings.ROSTER_UPLOAD_MAX_BYTES + 1)
    if len(content) > settings.ROSTER_UPLOAD_MAX_BYTES:
        raise UnreadableFile(_too_large())
    return content


def read_rows(content: bytes, file_name: str, file_format: FileFormat) -> Iterator[SheetRow]:
    """Each row below the header with anything in it; the header is row 1. Raises UnreadableFile."""
    if len(content) > settings.ROSTER_UPLOAD_MAX_BYTES:
        raise UnreadableFile(_too_large())
    if file_name.lower().endswith(".xlsx"):
        yield from _read_xlsx(content, file_format)
    elif file_name.lower().endswith(".csv"):
        yield from _read_csv(content, file_format)
    else:
        raise UnreadableFile(_("The file must be a .csv or .xlsx file."))


# --- The rows of either kind of file ------------------------------------------------------


def _cell_text(value: Any) -> str:
    """A cell as text, as a person reads it in their spreadsheet program."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _filled(texts: Sequence[str]) -> bool:
    return any(text.strip() for text in filter(None, texts))  # filter() skips the empty cells in C


def _check_header(header: list[str], file_format: FileFormat) -> list[str]:
    if any("\x00" in name for name in header):
        raise UnreadableFile(
            _("The header row holds a NUL character (a zero byte): the file is not plain text. Save it as CSV UTF-8.")
        )
    while header and not header[-1].strip():
        header.pop()  # a trailing comma or formatted empty cell is a spreadsheet's habit, not a column
    if not header:
        raise UnreadableFile(
            _("The first row is empty: it must be the header row, naming the columns (%(known)s).")
            % {"known": ", ".join(file_format.columns)}
        )
    columns = [name.strip().lower() for name in header]
    unknown = [name for name in columns if name and name not in file_format.columns]
    if unknown and len(unknown) == len([name for name in columns if name]):
        raise UnreadableFile(
            _("The first row is not a header row: it names none of the columns (%(known)s). Add the header row.")
            % {"known": ", ".join(file_format.columns)}
        )
    if unknown:
        named = ", ".join(quoted(name) for name in unknown[:UNKNOWN_COLUMNS_NAMED])
        if len(unknown) > UNKNOWN_COLUMNS_NAMED:
            named += " " + _("and %(count)s more") % {"count": _number(len(unknown) - UNKNOWN_COLUMNS_NAMED)}
        raise UnreadableFile(
            str(file_format.unknown_message) % {"columns": named, "known": ", ".join(file_format.columns)}
        )
    missing = [name for name in file_format.required if name not in columns]
    if missing:
        raise UnreadableFile(_("Missing required columns: %(columns)s.") % {"columns": ", ".join(missing)})
    duplicated = sorted({name for name in columns if name and columns.count(name) > 1})
    if duplicated:
        raise UnreadableFile(_("Columns appear twice: %(columns)s.") % {"columns": ", ".join(duplicated)})
    if "" in columns:
        raise UnreadableFile(_("A column has no name in the header row."))
    return columns


def _sheet_rows(records: Iterator[Sequence[str]], file_format: FileFormat) -> Iterator[SheetRow]:
    """The rows below the header, each cell checked; `records` yields every row of the file as text."""
    header = next(records, None)
    if header is None:
        raise UnreadableFile(_("The file is empty."))
    columns = _check_header(list(header), file_format)
    text_left = MAX_TEXT_CHARACTERS - sum(len(name) for name in header)
    any_row = False
    for line, record in enumerate(records, start=2):
        if line > MAX_ROWS + 1:
            raise UnreadableFile(
                _("The file has more than %(limit)s rows below the header. Split it into smaller files.")
                % {"limit": _number(MAX_ROWS)}
            )
        if not _filled(record):
            continue
        any_row = True
        errors: list[RowError] = []
        cells: dict[str, str] = {}
        for index, column in enumerate(columns):
            text = record[index] if index < len(record) else ""
            text_left -= len(text)
            if len(text) > MAX_CELL_CHARACTERS:
                errors.append(
                    RowError(
                        line,
                        column,
                        _("is %(length)s characters long; a cell holds at most %(limit)s")
                        % {"length": _number(len(text)), "limit": _number(MAX_CELL_CHARACTERS)},
                    )
                )
                text = ""
            elif "\x00" in text:
                errors.append(RowError(line, column, _("holds a NUL character (a zero byte), which is not text")))
                text = ""
            cells[column] = text
        if text_left < 0:
            raise UnreadableFile(
                _("The file holds more than %(limit)s characters of text. Split it into smaller files.")
                % {"limit": _number(MAX_TEXT_CHARACTERS)}
            )
        if _filled(record[len(columns) :]):
            errors.append(RowError(line, _("row"), _("has more cells than the header has columns")))
        yield SheetRow(line=line, cells=cells, errors=errors)
    if not any_row:
        raise UnreadableFile(_("The file has a header row but no rows below it."))


# --- CSV ----------------------------------------------------------------------------------


def _read_csv(content: bytes, file_format: FileFormat) -> Iterator[SheetRow]:
    if content.startswith(ZIP_SIGNATURE):
        raise UnreadableFile(
            _("The file is a zipped file, such as an .xlsx workbook, not CSV text. Name a workbook .xlsx.")
        )
    if content.startswith(OLE_SIGNATURE):
        raise UnreadableFile(
            _("The file is an Excel .xls workbook or a password-protected file, not CSV text. Save it as CSV UTF-8.")
        )
    if content.startswith(UTF16_BYTE_ORDER_MARKS):
        raise UnreadableFile(_("The file is UTF-16 text (“Unicode text”). Save it as CSV UTF-8 and try again."))
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content.count(b"\n", 0, error.start) + 1
        raise UnreadableFile(
            _("The file is not UTF-8 text (from line %(line)s). Save it as CSV UTF-8 and try again.")
            % {"line": _number(line)}
        ) from error
    if not text.strip():
        raise UnreadableFile(_("The file is empty."))
    # csv refuses a field over 128 KiB with an error for the whole file; no field can be longer than
    # the file, so let csv read it and refuse the cell itself, by row and column, below.
    if csv.field_size_limit() < len(text):
        csv.field_size_limit(max(len(text), settings.ROSTER_UPLOAD_MAX_BYTES))
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        yield from _sheet_rows(reader, file_format)
    except csv.Error as error:
        raise UnreadableFile(
            _("The file is not readable as CSV near line %(line)s.") % {"line": _number(reader.line_num)}
        ) from error


# --- XLSX ---------------------------------------------------------------------------------


def _not_a_workbook() -> UnreadableFile:
    return UnreadableFile(_("The file is not a readable .xlsx workbook."))


def _unpacks_too_large() -> UnreadableFile:
    return UnreadableFile(
        _("The workbook unpacks to more than %(limit)s MB; a file of %(rows)s rows is far smaller. Check the file.")
        % {"limit": MAX_WORKBOOK_BYTES // (1024 * 1024), "rows": _number(MAX_ROWS)}
    )


def check_workbook_archive(content: bytes) -> None:
    """Refuse a workbook that is not a plain .xlsx, or that would unpack to too much, before parsing it.

    Every part is unpacked once, in chunks, counting: memory stays at one chunk whatever the headers
    declare, and a part whose header understates its size fails its CRC check here."""
    if content.startswith(OLE_SIGNATURE):
        raise UnreadableFile(
            _(
                "The workbook is password-protected, or it is an old Excel .xls file. "
                "Save it as an .xlsx workbook without a password."
            )
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
        raise _not_a_workbook() from error
    with archive:
        parts = archive.infolist()
        if len(parts) > MAX_WORKBOOK_PARTS:
            raise _not_a_workbook()
        names = {part.filename for part in parts}
        if "[Content_Types].xml" not in names or not any(name.startswith("xl/") for name in names):
            raise UnreadableFile(_("The file is a zip archive, not an Excel workbook."))
        if any(part.flag_bits & ENCRYPTED_FLAG for part in parts):
            raise UnreadableFile(
                _("The workbook is password-protected. Save it as an .xlsx workbook without a password.")
            )
        if any(name.lower().endswith("vbaproject.bin") for name in names):
            raise _has_macros()
        if sum(part.file_size for part in parts) > MAX_WORKBOOK_BYTES:
            raise _unpacks_too_large()
        for part in parts:
            if part.file_size > RATIO_CHECKED_FROM_BYTES and part.file_size > MAX_COMPRESSION_RATIO * max(
                part.compress_size, 1
            ):
                raise UnreadableFile(
                    _("The workbook is compressed more than %(ratio)s to one, as no real workbook is. Check the file.")
                    % {"ratio": MAX_COMPRESSION_RATIO}
                )
        counts = _Counts()
        for part in parts:
            try:
                _unpack_counting(archive, part, counts)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as error:
                raise _not_a_workbook() from error


def _has_macros() -> UnreadableFile:
    return UnreadableFile(_("The workbook holds macros (.xlsm). Save it as a plain .xlsx workbook."))


@dataclass
class _Counts:
    unpacked_bytes: int = 0
    cells: int = 0
    shared_strings: int = 0


def _unpack_counting(archive: zipfile.ZipFile, part: zipfile.ZipInfo, counts: _Counts) -> None:
    """Unpack one part chunk by chunk, refusing the workbook once what was unpacked passes a limit.

    Elements are counted chunk by chunk; one cut in two by a chunk's end is missed, which a limit
    with this much room can afford."""
    tail = b""
    with archive.open(part) as stream:
        while chunk := stream.read(UNPACK_CHUNK_BYTES):
            counts.unpacked_bytes += len(chunk)
            if counts.unpacked_bytes > MAX_WORKBOOK_BYTES:
                raise _unpacks_too_large()
            window = tail + chunk
            if any(marker in window for marker in DTD_MARKERS):
                raise UnreadableFile(
                    _("The workbook declares an XML document type, which no spreadsheet needs. Check the file.")
                )
            if part.filename == "[Content_Types].xml" and b"macroEnabled" in window:
                raise _has_macros()
            counts.cells += sum(chunk.count(start) for start in CELL_STARTS)
            counts.shared_strings += sum(chunk.count(start) for start in SHARED_STRING_STARTS)
            if counts.cells > MAX_WORKBOOK_CELLS or counts.shared_strings > MAX_SHARED_STRINGS:
                raise UnreadableFile(
                    _("The workbook holds more than %(limit)s cells or texts; a file of %(rows)s rows holds fewer.")
                    % {"limit": _number(MAX_WORKBOOK_CELLS), "rows": _number(MAX_ROWS)}
                )
            tail = window[-16:]


def _read_xlsx(content: bytes, file_format: FileFormat) -> Iterator[SheetRow]:
    check_workbook_archive(content)
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True, keep_links=False)
    # Any failure of the parser on a file from outside means the same to the person: not readable.
    except Exception as error:
        raise _not_a_workbook() from error
    try:
        if not workbook.worksheets:
            raise UnreadableFile(_("The workbook has no sheet."))
        sheet = workbook.worksheets[0]
        # The stored dimensions may be wrong (some programs write A1); read the rows that are there.
        sheet.reset_dimensions()
        yield from _sheet_rows(_workbook_records(sheet), file_format)
    finally:
        workbook.close()


def _workbook_records(sheet: Any) -> Iterator[list[str]]:
    records = sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS)
    line = 0
    while True:
        try:
            record = next(records)
        except StopIteration:
            return
        except Exception as error:  # as above: the parser failing part-way through the sheet
            raise UnreadableFile(
                _("The workbook cannot be read after row %(line)s.") % {"line": _number(line)}
            ) from error
        line += 1
        yield ["" if value is None else _cell_text(value) for value in record]

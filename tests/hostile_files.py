"""Files a careless or hostile person might upload, built in memory: a zip bomb, a workbook whose
header lies about its size, workbooks with parts they should not have.

Nothing large is ever held: the bomb's sheet is one compressed block repeated, so a workbook that
unpacks to 500 MB takes a fraction of a second and about a megabyte to build."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

from openpyxl import Workbook

MB = 1024 * 1024
SHEET = "xl/worksheets/sheet1.xml"
SHEET_START = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
SHEET_END = b"</sheetData></worksheet>"


def workbook(rows: list[list[Any]]) -> bytes:
    """A plain workbook with one sheet holding the rows, as openpyxl saves it."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def workbook_parts(rows: list[list[Any]]) -> dict[str, bytes]:
    """The parts of a plain workbook, to replace or add one."""
    import zipfile

    with zipfile.ZipFile(io.BytesIO(workbook(rows))) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


class Part:
    """One part of a zip archive: its deflated bytes, and what its header will declare."""

    def __init__(self, name: str, deflated: bytes, crc: int, size: int) -> None:
        self.name, self.deflated, self.crc, self.size = name, deflated, crc, size

    @classmethod
    def of(cls, name: str, content: bytes) -> Part:
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        return cls(name, compressor.compress(content) + compressor.flush(), zlib.crc32(content), len(content))


def archive(parts: list[Part], *, declared_sizes: dict[str, int] | None = None) -> bytes:
    """A zip of deflated parts; `declared_sizes` makes a header state another unpacked size than the real one."""
    declared_sizes = declared_sizes or {}
    out = io.BytesIO()
    directory = io.BytesIO()
    for part in parts:
        name = part.name.encode()
        size = declared_sizes.get(part.name, part.size)
        offset = out.tell()
        out.write(
            struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, part.crc, len(part.deflated), size, len(name), 0)
        )
        out.write(name)
        out.write(part.deflated)
        directory.write(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                8,
                0,
                0,
                part.crc,
                len(part.deflated),
                size,
                len(name),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
        )
        directory.write(name)
    start = out.tell()
    out.write(directory.getvalue())
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(parts), len(parts), len(directory.getvalue()), start, 0))
    return out.getvalue()


def _repeated_sheet(inflated_bytes: int) -> Part:
    """A sheet of about `inflated_bytes` of rows, deflated as one block repeated: each block ends with
    a full flush, so it refers to nothing before it and copies of it follow one another."""
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'
    chunk = row * (MB // len(row))
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    copies = max(inflated_bytes // len(chunk), 1)
    ending = zlib.compressobj(9, zlib.DEFLATED, -15)
    end = ending.compress(SHEET_END) + ending.flush()
    start = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = start.compress(SHEET_START) + start.flush(zlib.Z_FULL_FLUSH)
    crc = zlib.crc32(SHEET_START)
    for _copy in range(copies):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(SHEET_END, crc)
    size = len(SHEET_START) + copies * len(chunk) + len(SHEET_END)
    return Part(SHEET, head + block * copies + end, crc, size)


def zip_bomb(inflated_bytes: int = 500 * MB, *, declared_size: int | None = None) -> bytes:
    """A small .xlsx whose sheet unpacks to about `inflated_bytes`; `declared_size` makes its headers lie."""
    parts = [Part.of(name, content) for name, content in workbook_parts([["email"]]).items() if name != SHEET]
    sheet = _repeated_sheet(inflated_bytes)
    declared = {SHEET: declared_size} if declared_size is not None else None
    return archive([*parts, sheet], declared_sizes=declared)


def workbook_with(extra: dict[str, bytes], rows: list[list[Any]] | None = None) -> bytes:
    """A plain workbook with parts added or replaced (a macro project, a DTD)."""
    parts = workbook_parts(rows or [["email"]])
    parts.update(extra)
    return archive([Part.of(name, content) for name, content in parts.items()])


def inline_workbook(rows: list[list[str]]) -> bytes:
    """A workbook whose sheet is written by hand, cell by cell as inline strings: openpyxl would cut a
    cell at Excel's 32,767 characters when saving, and a hostile file need not."""
    from xml.sax.saxutils import escape

    sheet = io.BytesIO()
    sheet.write(SHEET_START)
    for number, row in enumerate(rows, start=1):
        sheet.write(f'<row r="{number}">'.encode())
        for text in row:
            sheet.write(f'<c t="inlineStr"><is><t>{escape(text)}</t></is></c>'.encode())
        sheet.write(b"</row>")
    sheet.write(SHEET_END)
    return workbook_with({SHEET: sheet.getvalue()})

"""The master competency checklist as a PDF: the record a program shows the accreditor at a site visit.

Every psychomotor and affective competency of the program's framework, by content area, with the
date the student first passed a standing (signed, not revoked) check-off and who signed it. Text is
gettext'd when the PDF is built, so it comes out in the language active for the request.

ReportLab's built-in Helvetica is used, so nothing is embedded and the file stays small. It encodes
WinAnsi (Latin-1 and a few typographic marks): Spanish is whole; a letter beyond it is folded to
its base letter (ễ → e) rather than printed as a black box.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from curriculum.models import Attempt, Competency, ContentArea, Enrollment, Signature

FONT, BOLD = "Helvetica", "Helvetica-Bold"
MARGIN = 0.6 * inch
FRAME_PADDING = 6  # ReportLab's default inside a page's frame
WIDTH = LETTER[0] - 2 * (MARGIN + FRAME_PADDING)
INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#5f6b7a")
RULE = colors.HexColor("#c9d1db")
BAND = colors.HexColor("#1f3a5f")
HEADER_FILL = colors.HexColor("#e8edf3")
ZEBRA = colors.HexColor("#f6f8fa")
ALERT = colors.HexColor("#b02a37")
# Code, competency, date achieved, setting, signed by: shares of a letter page's width, in portrait.
COLUMN_WIDTHS = [WIDTH * share for share in (0.115, 0.43, 0.155, 0.11, 0.19)]
# Letters with no decomposition to a WinAnsi base letter.
FOLDS = str.maketrans({"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "ı": "i", "ŀ": "l", "Ŀ": "L"})


@dataclass(frozen=True)
class ChecklistRow:
    competency: Competency
    achieved_by: Attempt | None  # the first standing passing attempt, with its signature and signer


@dataclass(frozen=True)
class ChecklistSection:
    content_area: ContentArea
    rows: list[ChecklistRow]


@dataclass(frozen=True)
class MasterChecklist:
    enrollment: Enrollment
    sections: list[ChecklistSection]
    generated_at: datetime
    # Standing passes whose signature does not verify (digest or chain link): left out, and said so.
    unverified: int = 0

    @property
    def total(self) -> int:
        return sum(len(section.rows) for section in self.sections)

    @property
    def achieved(self) -> int:
        return sum(1 for section in self.sections for row in section.rows if row.achieved_by)


def master_checklist(enrollment: Enrollment) -> MasterChecklist:
    """Gather the checklist in four queries, whatever the number of competencies and attempts.

    `enrollment` comes with its student and cohort's program (and framework) selected."""
    program = enrollment.cohort.program
    competencies = (
        Competency.objects.for_program(program)
        .signed_off()
        .select_related("content_area", "parent")
        .order_by("content_area__order", "content_area__code", "order", "code")
    )
    # DISTINCT ON keeps one row per competency: the earliest standing pass. A revoked signature
    # does not count, so a later standing pass becomes the date achieved.
    first_passes = (
        Attempt.objects.standing()
        .filter(enrollment=enrollment, passed=True)
        .select_related("signature__signer", "competency")
        .prefetch_related("step_results")
        .order_by("competency_id", "performed_at", "pk")
        .distinct("competency_id")
    )
    passes = list(first_passes)
    for attempt in passes:
        attempt.enrollment = enrollment
    # Evidence handed to an accreditor is checked first: a pass whose content no longer matches its
    # signature's digest, or whose signature does not follow from the one before it in the
    # student's chain, is not printed as achieved.
    Signature.check_all([attempt.signature for attempt in passes])
    achieved = {attempt.competency_id: attempt for attempt in passes if attempt.signature.verified}
    unverified = len(passes) - len(achieved)
    sections: list[ChecklistSection] = []
    for competency in competencies:
        if not sections or sections[-1].content_area.pk != competency.content_area_id:
            sections.append(ChecklistSection(content_area=competency.content_area, rows=[]))
        sections[-1].rows.append(ChecklistRow(competency=competency, achieved_by=achieved.get(competency.pk)))
    return MasterChecklist(enrollment=enrollment, sections=sections, generated_at=timezone.now(), unverified=unverified)


def printable(text: Any) -> str:
    """Escape for ReportLab's paragraph markup, keeping to what Helvetica can draw."""
    return escape(plain(str(text)))


def plain(text: str) -> str:
    """Text as Helvetica can draw it: WinAnsi as is, any other letter folded to its base letter."""
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return "".join(_fold(character) for character in text.translate(FOLDS))
    return text


def _fold(character: str) -> str:
    """One character as Helvetica can draw it: itself, its base letters (ễ → e, ﬁ → fi), or “?”."""
    base = "".join(part for part in unicodedata.normalize("NFKD", character) if not unicodedata.combining(part))
    for candidate in (character, base):
        try:
            candidate.encode("cp1252")
        except UnicodeEncodeError:
            continue
        if candidate:
            return candidate
    return "?"


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=FONT, fontSize=8.5, leading=10.5, textColor=INK)
    return {
        "title": ParagraphStyle("title", parent=base, fontName=BOLD, fontSize=17, leading=21, spaceAfter=2),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=10, leading=13, textColor=MUTED),
        "label": ParagraphStyle("label", parent=base, fontSize=7.5, leading=9, textColor=MUTED),
        "value": ParagraphStyle("value", parent=base, fontName=BOLD, fontSize=9.5, leading=12),
        "note": ParagraphStyle("note", parent=base, fontSize=8, leading=10.5, textColor=MUTED),
        "warning": ParagraphStyle(
            "warning", parent=base, fontSize=9, leading=11.5, textColor=colors.HexColor("#b02a37")
        ),
        "cell": base,
        "code": ParagraphStyle("code", parent=base, fontName=BOLD),
        "head": ParagraphStyle("head", parent=base, fontName=BOLD, fontSize=7.5, leading=9),
        "band": ParagraphStyle("band", parent=base, fontName=BOLD, fontSize=9.5, leading=12, textColor=colors.white),
        "band_count": ParagraphStyle(
            "band_count", parent=base, fontSize=9.5, leading=12, textColor=colors.white, alignment=TA_RIGHT
        ),
    }


def _date(value: datetime, zone: Any) -> str:
    """A short, unambiguous date in the program's time zone: “Oct 12, 2026”, “12 oct 2026”."""
    # Translators: a date in Django's date-format syntax, short enough for a table column: "Oct 12, 2026".
    return date_format(timezone.localtime(value, zone), "DATE_FORMAT")


def _person(user: Any) -> str:
    return user.full_name or user.email


def _header(checklist: MasterChecklist, styles: dict[str, ParagraphStyle]) -> list[Any]:
    enrollment = checklist.enrollment
    program, cohort, student = enrollment.cohort.program, enrollment.cohort, enrollment.student
    framework = program.framework
    facts = [
        (_("Program"), program.name),
        (_("Accreditor"), program.get_accreditor_display()),
        (_("Student"), _person(student)),
        (_("Student number"), enrollment.student_number or "—"),
        (_("Cohort"), f"{cohort.name} ({cohort.code})"),
        (
            _("Competency framework"),
            _("%(name)s, version %(version)s") % {"name": framework.name, "version": framework.version}
            if framework
            else _("None chosen yet"),
        ),
        (_("Generated"), _date(checklist.generated_at, program.zone)),
        (
            _("Achieved"),
            ngettext("%(achieved)s of %(total)s competency", "%(achieved)s of %(total)s competencies", checklist.total)
            % {"achieved": checklist.achieved, "total": checklist.total},
        ),
    ]
    cells = [
        [Paragraph(printable(label), styles["label"]), Paragraph(printable(value), styles["value"])]
        for label, value in facts
    ]
    # Two facts a row: label and value, twice.
    rows = [
        cells[index] + (cells[index + 1] if index + 1 < len(cells) else ["", ""]) for index in range(0, len(cells), 2)
    ]
    facts_table = Table(rows, colWidths=[WIDTH * share for share in (0.15, 0.35, 0.15, 0.35)], hAlign="LEFT")
    facts_table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ("TOPPADDING", (1, 0), (1, -1), 2),
                ("TOPPADDING", (3, 0), (3, -1), 2),
                ("LINEBELOW", (0, -1), (-1, -1), 0.75, RULE),
            ]
        )
    )
    return [
        Paragraph(printable(_("Master Competency Checklist")), styles["title"]),
        Paragraph(printable(_("Psychomotor and affective competencies")), styles["subtitle"]),
        Spacer(1, 10),
        facts_table,
        Spacer(1, 6),
        Paragraph(
            printable(
                _(
                    "Each competency shows the date of the student's first passing check-off that is signed and "
                    "not revoked, and the instructor who performed, evaluated and signed it. Blank: not yet achieved."
                )
            ),
            styles["note"],
        ),
        *(
            [
                Spacer(1, 4),
                Paragraph(
                    printable(
                        ngettext(
                            "%(count)s signed check-off does not verify and is left out. "
                            "Ask the program office to run verify_records.",
                            "%(count)s signed check-offs do not verify and are left out. "
                            "Ask the program office to run verify_records.",
                            checklist.unverified,
                        )
                        % {"count": checklist.unverified}
                    ),
                    styles["warning"],
                ),
            ]
            if checklist.unverified
            else []
        ),
        Spacer(1, 10),
    ]


def _section_table(section: ChecklistSection, zone: Any, styles: dict[str, ParagraphStyle]) -> Table:
    """One content area: its band and the column headings repeat on every page it runs onto."""
    area = section.content_area
    achieved = sum(1 for row in section.rows if row.achieved_by)
    band = [
        Paragraph(printable(f"{area.code}. {area.title}"), styles["band"]),
        "",
        "",
        Paragraph(
            printable(_("%(achieved)s of %(total)s achieved") % {"achieved": achieved, "total": len(section.rows)}),
            styles["band_count"],
        ),
        "",
    ]
    headings = [
        Paragraph(printable(heading), styles["head"])
        for heading in (_("Code"), _("Competency"), _("Date achieved"), _("Setting"), _("Signed by"))
    ]
    rows: list[list[Any]] = [band, headings]
    for row in section.rows:
        attempt = row.achieved_by
        rows.append(
            [
                Paragraph(printable(row.competency.code), styles["code"]),
                Paragraph(printable(row.competency.label), styles["cell"]),
                Paragraph(printable(_date(attempt.performed_at, zone)), styles["cell"]) if attempt else "",
                Paragraph(printable(attempt.get_setting_display()), styles["cell"]) if attempt else "",
                Paragraph(printable(_person(attempt.signature.signer)), styles["cell"]) if attempt else "",
            ]
        )
    table = Table(rows, colWidths=COLUMN_WIDTHS, repeatRows=2, hAlign="LEFT", spaceAfter=12)
    commands: list[tuple[Any, ...]] = [
        ("SPAN", (0, 0), (2, 0)),
        ("SPAN", (3, 0), (4, 0)),
        ("BACKGROUND", (0, 0), (-1, 0), BAND),
        ("BACKGROUND", (0, 1), (-1, 1), HEADER_FILL),
        ("LINEBELOW", (0, 1), (-1, 1), 0.75, MUTED),
        ("LINEBELOW", (0, 2), (-1, -1), 0.25, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("VALIGN", (0, 0), (-1, 0), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, 0), 4),
        ("BOTTOMPADDING", (0, 0), (-1, 0), 4),
    ]
    commands += [("BACKGROUND", (0, index), (-1, index), ZEBRA) for index in range(3, len(rows), 2)]
    table.setStyle(TableStyle(commands))
    return table


def numbered_canvas(footnote: str, running_head: str = "") -> type[Canvas]:
    """A canvas that holds its pages until the end, so every footer can say “page 2 of 5”.

    Every page gets the footnote and its number; pages after the first, the running head."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            for number, page in enumerate(self._pages, start=1):
                self.__dict__.update(page)
                self._decorate(number, len(self._pages))
                super().showPage()
            super().save()

        def _decorate(self, number: int, count: int) -> None:
            width, height = self._pagesize
            self.saveState()
            self.setStrokeColor(RULE)
            self.setLineWidth(0.5)
            self.setFillColor(MUTED)
            self.setFont(FONT, 7.5)
            left, right = MARGIN + FRAME_PADDING, width - MARGIN - FRAME_PADDING
            if running_head and number > 1:
                self.drawString(left, height - MARGIN + 14, plain(running_head))
                self.line(left, height - MARGIN + 10, right, height - MARGIN + 10)
            self.line(left, MARGIN - 10, right, MARGIN - 10)
            self.drawString(left, MARGIN - 22, plain(footnote))
            page_label = _("Page %(number)s of %(count)s") % {"number": number, "count": count}
            self.drawRightString(right, MARGIN - 22, plain(page_label))
            self.restoreState()

    return NumberedCanvas


def _checklist_canvas(checklist: MasterChecklist) -> type[Canvas]:
    enrollment = checklist.enrollment
    running_head = " · ".join(
        part
        for part in (_("Master Competency Checklist"), _person(enrollment.student), enrollment.student_number)
        if part
    )
    footnote = _("Revoked signatures are excluded. Generated %(date)s by Checkoff.") % {
        "date": _date(checklist.generated_at, enrollment.cohort.program.zone)
    }
    return numbered_canvas(footnote, running_head)


def render_master_checklist(checklist: MasterChecklist) -> bytes:
    """Lay the checklist out on letter pages: header, one table per content area, numbered footers."""
    enrollment = checklist.enrollment
    zone = enrollment.cohort.program.zone
    styles = _styles()
    story: list[Any] = _header(checklist, styles)
    if not checklist.sections:
        empty = _("This program has no psychomotor or affective competencies yet.")
        story.append(Paragraph(printable(empty), styles["cell"]))
    story += [_section_table(section, zone, styles) for section in checklist.sections]
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=LETTER,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=_("Master Competency Checklist: %(student)s") % {"student": _person(enrollment.student)},
        author=enrollment.cohort.program.name,
        subject=_("Psychomotor and affective competencies"),
        creator="Checkoff",
    )
    document.build(story, canvasmaker=_checklist_canvas(checklist))
    return buffer.getvalue()

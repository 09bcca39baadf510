"""The outcomes export (CSV and XLSX, one row per measure per year) and the annual report as a PDF.

The export's columns and values are the interchange format the README documents: machine-readable,
so its header and its values (`maerb`, `5yr`, `yes`) are never translated. The PDF is for people: its
words follow the active language. Every number in both comes from `outcomes`, so the files say exactly
what the report page shows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from certifications.models import Accreditor
from certifications.outcomes import (
    Figure,
    OutcomeReport,
    PassRate,
    accreditor_of,
    counted_formula,
    counted_tracks,
    measure_name,
    outcome_report,
    pass_rates,
    placement_legend,
)
from curriculum.models import Program
from curriculum.pdf import (
    ALERT,
    BOLD,
    FONT,
    HEADER_FILL,
    INK,
    MARGIN,
    MUTED,
    RULE,
    WIDTH,
    ZEBRA,
    numbered_canvas,
    printable,
)

# The columns of the interchange format, in order: `program_name` follows `program` (the code), and the
# columns added since (`final`, `enrolled`) come last, so a reader by name finds every earlier one.
EXPORT_COLUMNS = [
    "program",
    "program_name",
    "accreditor",
    "measure",
    "year",
    "numerator",
    "denominator",
    "rate",
    "threshold",
    "meets_threshold",
    "final",
    "enrolled",
]
# What --accreditor and the downloads accept: one accreditor, or both ("" or None: each program's own).
BOTH = "both"
EXPORT_ACCREDITORS = (Accreditor.MAERB.value, Accreditor.ABHES.value, BOTH)


def number_text(value: Decimal | None) -> str:
    """A percentage as the export writes it: no trailing zeros for a threshold ("60", "62.5"), empty for none."""
    if value is None:
        return ""
    return format(value.normalize(), "f")


def rate_text(rate: Decimal | None) -> str:
    return "" if rate is None else format(rate, ".1f")


def meets_text(meets: bool | None) -> str:
    return "" if meets is None else ("yes" if meets else "no")


def figure_row(figure: Figure, program_name: str) -> list[str]:
    """One row of the export. A year in progress has no rate and no flag, says `final` "no" and how many
    of its students are still enrolled; `enrolled` is empty for a final figure."""
    return [
        figure.program_code,
        program_name,
        figure.accreditor,
        figure.measure,
        figure.year_label,
        str(figure.numerator),
        str(figure.denominator),
        rate_text(figure.rate),
        number_text(figure.threshold),
        meets_text(figure.meets_threshold),
        "yes" if figure.final else "no",
        "" if figure.final else str(figure.enrolled),
    ]


def report_figures(report: OutcomeReport) -> Iterator[Figure]:
    """A report's figures in the order of its tables: by measure, years ascending, the 5-year average last."""
    for _measure, figures in report.rows():
        yield from figures


def accreditors_for(program: Program, accreditor: str | None) -> list[str]:
    """The accreditors a program's rows are for: the one asked, both (MAERB first), or the program's own."""
    if accreditor == BOTH:
        return [Accreditor.MAERB.value, Accreditor.ABHES.value]
    return [accreditor_of(program, accreditor or None)]


def export_rows(programs: Iterable[Program], accreditor: str | None = None) -> Iterator[list[str]]:
    """Every figure of every program, for the accreditor asked (None: each program's own; "both": MAERB's
    then ABHES's), two queries a program and accreditor."""
    for program in programs:
        for each in accreditors_for(program, accreditor):
            for figure in report_figures(outcome_report(program, each)):
                yield figure_row(figure, program.name)


def outcomes_csv(programs: Iterable[Program], accreditor: str | None = None) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(export_rows(programs, accreditor))
    return buffer.getvalue()


def _cell(column: str, text: str) -> Any:
    """The export's value as a spreadsheet cell: counts and percentages as numbers, the rest as text."""
    if text == "":
        return None
    if column in ("numerator", "denominator", "enrolled"):
        return int(text)
    if column in ("rate", "threshold"):
        return Decimal(text)
    return text


def outcomes_xlsx(programs: Iterable[Program], accreditor: str | None = None) -> bytes:
    """The same rows as the CSV, in one sheet."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook has one sheet
    sheet.title = "outcomes"
    sheet.append(EXPORT_COLUMNS)
    for row in export_rows(programs, accreditor):
        sheet.append([_cell(column, text) for column, text in zip(EXPORT_COLUMNS, row, strict=True)])
    for column in ("rate", "threshold"):
        letter = get_column_letter(EXPORT_COLUMNS.index(column) + 1)
        for cell in sheet[letter][1:]:
            cell.number_format = "0.0"
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- The annual report as a PDF -------------------------------------------------------------------


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=FONT, fontSize=8.5, leading=10.5, textColor=INK)
    return {
        "title": ParagraphStyle("title", parent=base, fontName=BOLD, fontSize=17, leading=21, spaceAfter=2),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=10, leading=13, textColor=MUTED),
        "label": ParagraphStyle("label", parent=base, fontSize=7.5, leading=9, textColor=MUTED),
        "value": ParagraphStyle("value", parent=base, fontName=BOLD, fontSize=9.5, leading=12),
        "heading": ParagraphStyle("heading", parent=base, fontName=BOLD, fontSize=11, leading=14, spaceBefore=4),
        "note": ParagraphStyle("note", parent=base, fontSize=8, leading=10.5, textColor=MUTED),
        "cell": base,
        "head": ParagraphStyle("head", parent=base, fontName=BOLD, fontSize=7.5, leading=9),
    }


def _rate(value: Decimal | None) -> str:
    """A rate as the report shows it, with its one decimal: "66.7%", "80.0%"."""
    return "—" if value is None else f"{rate_text(value)}%"


def _threshold(value: Decimal | None) -> str:
    return "—" if value is None else f"{number_text(value)}%"


def _year_label(figure: Figure) -> str:
    return _("5-year average") if figure.year is None else str(figure.year)


def _meets_label(figure: Figure) -> str:
    meets = figure.meets_threshold
    if meets is None:
        return "—"
    return _("Yes") if meets else _("No")


def _rate_label(figure: Figure) -> str:
    """The rate, or for a year in progress what stands in for it: "In progress (2 still enrolled)"."""
    if figure.final:
        return _rate(figure.rate)
    return ngettext(
        "In progress (%(count)s still enrolled)", "In progress (%(count)s still enrolled)", figure.enrolled
    ) % {"count": figure.enrolled}


def _table(rows: list[list[Any]], widths: list[float], alerts: Iterable[int] = ()) -> Table:
    """A table with a shaded heading row that repeats on every page, zebra rows and `alerts` in red."""
    table = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT", spaceAfter=10)
    commands: list[tuple[Any, ...]] = [
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
        ("LINEBELOW", (0, 0), (-1, 0), 0.75, MUTED),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    commands += [("BACKGROUND", (0, index), (-1, index), ZEBRA) for index in range(2, len(rows), 2)]
    commands += [("TEXTCOLOR", (0, index), (-1, index), ALERT) for index in alerts]
    table.setStyle(TableStyle(commands))
    return table


def _measure_section(report: OutcomeReport, counted: list[str], styles: dict[str, ParagraphStyle]) -> list[Any]:
    story: list[Any] = []
    with_terms = report.accreditor == Accreditor.ABHES
    for measure, figures in report.rows():
        headings = [_("Year"), _("Numerator"), _("Denominator"), _("Rate"), _("Threshold"), _("Meets threshold")]
        if with_terms:
            headings.append(_("Terms"))
        rows: list[list[Any]] = [[Paragraph(printable(heading), styles["head"]) for heading in headings]]
        alerts = []
        for figure in figures:
            cells = [
                _year_label(figure),
                str(figure.numerator),
                str(figure.denominator),
                _rate_label(figure),
                _threshold(figure.threshold),
                _meets_label(figure),
            ]
            if with_terms:
                cells.append(" · ".join(f"{term} {count}" for term, count in figure.terms))
            if figure.meets_threshold is False:
                alerts.append(len(rows))
            rows.append([Paragraph(printable(cell), styles["cell"]) for cell in cells])
        shares = (0.16, 0.12, 0.13, 0.1, 0.11, 0.13, 0.25) if with_terms else (0.2, 0.16, 0.16, 0.14, 0.14, 0.2)
        title = Paragraph(printable(measure_name(report.accreditor, measure.key)), styles["heading"])
        formula = [Paragraph(printable(measure.formula), styles["note"])]
        if named := counted_formula(report.accreditor, measure.key, counted):
            formula.append(Paragraph(printable(named), styles["note"]))
        if legend := placement_legend(measure):
            formula.append(Paragraph(printable(legend), styles["note"]))
        if not report.years:
            story += [
                title,
                *formula,
                Paragraph(printable(_("No students counted yet.")), styles["cell"]),
                Spacer(1, 8),
            ]
            continue
        story.append(
            KeepTogether([title, *formula, Spacer(1, 4), _table(rows, [WIDTH * share for share in shares], alerts)])
        )
    return story


def _pass_rate_section(rates: list[PassRate], styles: dict[str, ParagraphStyle]) -> list[Any]:
    headings = [
        _("Track"),
        _("Graduation year"),
        _("Taken"),
        _("Passed at the first attempt"),
        _("First-attempt rate"),
        _("Passed eventually"),
        _("Eventual rate"),
    ]
    rows: list[list[Any]] = [[Paragraph(printable(heading), styles["head"]) for heading in headings]]
    for rate in rates:
        if rate.group != "year" or not rate.taken:
            continue
        cells = [
            rate.track_code,
            rate.key or _("Not yet graduated"),
            str(rate.taken),
            str(rate.passed_first),
            _rate(rate.first_rate),
            str(rate.passed_eventually),
            _rate(rate.eventual_rate),
        ]
        rows.append([Paragraph(printable(cell), styles["cell"]) for cell in cells])
    story: list[Any] = [
        Paragraph(printable(_("Exam pass rates by track and graduation year")), styles["heading"]),
        Paragraph(
            printable(
                _(
                    "Students who sat the exam (a missed booking is not a sitting); those whose first sitting was a "
                    "pass, and those who passed at any sitting."
                )
            ),
            styles["note"],
        ),
        Spacer(1, 4),
    ]
    if len(rows) == 1:
        return [KeepTogether([*story, Paragraph(printable(_("No one has sat an exam yet.")), styles["cell"])])]
    shares = (0.1, 0.16, 0.1, 0.17, 0.16, 0.16, 0.15)
    # Kept with its heading; a table longer than a page still splits, its heading row repeated.
    return [KeepTogether([*story, _table(rows, [WIDTH * share for share in shares])])]


def _generated_on(program: Program) -> str:
    # Translators: a date in Django's date-format syntax, short enough for a table column: "Oct 12, 2026".
    return date_format(timezone.localtime(timezone.now(), program.zone), "DATE_FORMAT")


def annual_report_pdf(program: Program, accreditor: str | None = None) -> bytes:
    """The annual report's tables for the accreditor: each measure by year against its threshold, and the
    exam pass rates by track and graduation year (five queries)."""
    report = outcome_report(program, accreditor)
    rates = pass_rates(program)
    styles = _styles()
    accreditor_label = str(Accreditor(report.accreditor).label)
    generated = _generated_on(program)
    facts = [
        (_("Program"), f"{program.name} ({program.code})"),
        (_("Accreditor"), accreditor_label),
        (_("Generated"), generated),
        (
            _("Years"),
            f"{report.years[0]}–{report.years[-1]}" if report.years else "—",
        ),
    ]
    cells = [
        [Paragraph(printable(label), styles["label"]), Paragraph(printable(value), styles["value"])]
        for label, value in facts
    ]
    facts_table = Table(
        [cells[0] + cells[1], cells[2] + cells[3]],
        colWidths=[WIDTH * share for share in (0.13, 0.37, 0.13, 0.37)],
        hAlign="LEFT",
    )
    facts_table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("LINEBELOW", (0, -1), (-1, -1), 0.75, RULE),
            ]
        )
    )
    if report.accreditor == Accreditor.MAERB:
        years_note = _(
            "Retention counts students by the calendar year they were admitted, from those who completed the "
            "trigger course; the other measures count graduates by the calendar year they graduated. A year is "
            "final once it is over and, for retention, once everyone admitted in it has graduated or withdrawn; "
            "a year in progress has no rate and is not held against the threshold. The 5-year average pools the "
            "numerators and denominators of the five most recent final years."
        )
    else:
        years_note = _(
            "Each report year runs from July 1 to June 30 and is named for the year in which it ends; it is "
            "final once it has ended, and a year in progress has no rate. "
            "BE: enrolled on July 1; NS: new starts; RE: re-entries; EE: enrolled on June 30; G: graduates; "
            "U: graduates unavailable for employment; GT: graduates who sat a credentialing exam; GP: of them, "
            "those who passed."
        )
    story: list[Any] = [
        Paragraph(printable(_("Annual outcomes report")), styles["title"]),
        Paragraph(printable(accreditor_label), styles["subtitle"]),
        Spacer(1, 10),
        facts_table,
        Spacer(1, 6),
        Paragraph(printable(years_note), styles["note"]),
        Paragraph(printable(_("Rows in red fall below the threshold.")), styles["note"]),
        Spacer(1, 8),
        *_measure_section(report, counted_tracks(program, report.accreditor), styles),
        Spacer(1, 6),
        *_pass_rate_section(rates, styles),
    ]
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=LETTER,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=_("Annual outcomes report: %(program)s") % {"program": program.name},
        author=program.name,
        subject=accreditor_label,
        creator="Checkoff",
    )
    footnote = _("%(program)s · %(accreditor)s · Generated %(date)s by Checkoff.") % {
        "program": program.name,
        "accreditor": accreditor_label,
        "date": generated,
    }
    document.build(story, canvasmaker=numbered_canvas(footnote))
    return buffer.getvalue()

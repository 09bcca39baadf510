"""Charts for the outcome reports, drawn on the server as inline SVG.

No script and no chart library: the report must print, read on a phone, and pass to a site visitor
as it is. Meaning never rests on colour alone: a figure below its threshold is hatched and labelled,
each track's line has its own dash and marker, every value is written beside its mark, and each
chart carries a title and a description a screen reader announces. Every text is escaped through
`format_html`; these functions take plain values and return markup, and read nothing else.

Each chart comes in two shapes. The wide one (640 units across) is for a screen of a tablet's width or
more. On a phone it would shrink to a third of its size, and its 12-unit text to 5 px: the compact one
instead lays each year out as a row of its own, its bar across, in a drawing 288 units wide whose
smallest text is 13 units, so on the narrowest phone (320 px, where a card leaves 262 px for it) no text
is drawn smaller than 11.8 px. The page shows one or the other by the screen's width.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext as _

WIDTH = 640
PLOT_LEFT = 48
PLOT_RIGHT = WIDTH - 100  # room on the right for the threshold's label, clear of every bar
PLOT_TOP = 28
PLOT_HEIGHT = 200  # two units a percent: 0% at the bottom, 100% at the top
PLOT_BOTTOM = PLOT_TOP + PLOT_HEIGHT
LEGEND_TOP = PLOT_BOTTOM + 40
LEGEND_ITEM_WIDTH = 140
LEGEND_ROW_HEIGHT = 20
MAX_BAR_WIDTH = 56
GRID_PERCENTS = (0, 25, 50, 75, 100)

# One look a track: colour for those who see it, and a dash and a marker shape for those who do not.
COLOURS = ("#0d6efd", "#d63384", "#198754", "#b35900", "#6f42c1")
DASHES = ("", "8 4", "2 4", "10 4 2 4", "4 4")
MARKERS = ("circle", "square", "triangle", "diamond", "cross")
BAR_COLOUR = "#0d6efd"

# The compact shape: a row a year, bars across, text no smaller than COMPACT_SMALLEST units.
COMPACT_WIDTH = 288
COMPACT_FONT = 14
COMPACT_SMALLEST = 13
COMPACT_LABEL_WIDTH = 68  # the year, "2023–24" at its widest
COMPACT_VALUE_WIDTH = 58  # the rate, "100.0%", right-aligned at the edge
COMPACT_BAR_LEFT = COMPACT_LABEL_WIDTH
COMPACT_BAR_RIGHT = COMPACT_WIDTH - COMPACT_VALUE_WIDTH
COMPACT_ROW_HEIGHT = 30
COMPACT_BELOW_HEIGHT = 16  # the line under a row that falls below its threshold
COMPACT_HEADING_HEIGHT = 26  # a track's name above its rows
BELOW_COLOUR = "#b02a37"
INK = "#212529"
GRID = "#dee2e6"


@dataclass(frozen=True)
class Bar:
    """One year of an outcome measure: its rate (None without a denominator, or while the year is in
    progress) and whether it falls below."""

    label: str
    value: Decimal | None
    below: bool = False
    in_progress: bool = False


@dataclass(frozen=True)
class Series:
    """One track's pass rates, one value for each label of the chart (None where nobody sat)."""

    name: str
    values: Sequence[Decimal | None]


def y_for(percent: Decimal | float | int) -> float:
    """Where a percentage sits on the vertical axis (0% at the bottom of the plot)."""
    clamped = min(max(float(percent), 0.0), 100.0)
    return PLOT_TOP + PLOT_HEIGHT * (100.0 - clamped) / 100.0


def percent_text(value: Decimal) -> str:
    """A rate as the report writes it, one decimal, in the reader's language: "66.7%"."""
    return f"{number_format(value, decimal_pos=1)}%"


def threshold_text(value: Decimal) -> str:
    """A threshold as the accreditor states it: "60%", "62.5%"."""
    places = 0 if value == value.to_integral_value() else 1
    return f"{number_format(value, decimal_pos=places)}%"


def measure_chart(*, chart_id: str, title: str, bars: Sequence[Bar], threshold: Decimal | None) -> SafeString:
    """An outcome measure by year: a bar a year, a dashed line at the threshold, and the years below it
    hatched and labelled "Below"."""
    ident = _ident(chart_id)
    slot = _slot_width(len(bars))
    bar_width = min(MAX_BAR_WIDTH, slot * 0.6)
    parts: list[SafeString] = [
        format_html(
            '<defs><pattern id="{}-below" patternUnits="userSpaceOnUse" width="8" height="8" '
            'patternTransform="rotate(45)"><rect width="8" height="8" fill="{}"/>'
            '<line x1="0" y1="0" x2="0" y2="8" stroke="#ffffff" stroke-width="4"/></pattern></defs>',
            ident,
            BELOW_COLOUR,
        ),
        _grid(),
    ]
    for index, bar in enumerate(bars):
        centre = PLOT_LEFT + slot * index + slot / 2
        parts.append(_x_label(centre, bar.label))
        if bar.value is None:
            parts.append(
                format_html(
                    '<text class="{}" x="{}" y="{}" text-anchor="middle" fill="{}">{}</text>',
                    "in-progress" if bar.in_progress else "no-data",
                    _number(centre),
                    _number(PLOT_BOTTOM - 6),
                    INK,
                    _("in progress") if bar.in_progress else _("no data"),
                )
            )
            continue
        top = y_for(bar.value)
        parts.append(
            format_html(
                '<rect class="bar{}" data-label="{}" data-value="{}" x="{}" y="{}" width="{}" height="{}" '
                'fill="{}" stroke="{}"/>',
                " below" if bar.below else "",
                bar.label,
                bar.value,
                _number(centre - bar_width / 2),
                _number(top),
                _number(bar_width),
                _number(PLOT_BOTTOM - top),
                f"url(#{ident}-below)" if bar.below else BAR_COLOUR,
                BELOW_COLOUR if bar.below else BAR_COLOUR,
            )
        )
        parts.append(
            format_html(
                '<text class="value" x="{}" y="{}" text-anchor="middle" fill="{}">{}</text>',
                _number(centre),
                _number(top - 4),
                INK,
                percent_text(bar.value),
            )
        )
        if bar.below:
            parts.append(
                format_html(
                    '<text class="below-label" x="{}" y="{}" text-anchor="middle" font-weight="bold" fill="{}">'
                    "{}</text>",
                    _number(centre),
                    PLOT_BOTTOM + 34,
                    BELOW_COLOUR,
                    _("Below"),
                )
            )
    if threshold is not None:
        line_y = y_for(threshold)
        parts.append(
            format_html(
                '<line class="threshold" data-value="{}" x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" '
                'stroke-width="2" stroke-dasharray="6 4"/>'
                '<text class="threshold-label" x="{}" y="{}" fill="{}">{}</text>',
                threshold,
                PLOT_LEFT,
                _number(line_y),
                PLOT_RIGHT,
                _number(line_y),
                INK,
                PLOT_RIGHT + 6,
                _number(line_y + 4),
                INK,
                _("Threshold %(threshold)s") % {"threshold": threshold_text(threshold)},
            )
        )
    return _svg(ident, title, _measure_description(title, bars, threshold), LEGEND_TOP, parts)


def pass_rate_chart(*, chart_id: str, title: str, labels: Sequence[str], series: Sequence[Series]) -> SafeString:
    """Pass rates by year, a line a track, each point labelled with its rate; a legend names the tracks
    by their line and marker."""
    ident = _ident(chart_id)
    slot = _slot_width(len(labels))
    centres = [PLOT_LEFT + slot * index + slot / 2 for index in range(len(labels))]
    parts: list[SafeString] = [
        _grid(),
        *(_x_label(centre, label) for centre, label in zip(centres, labels, strict=True)),
    ]
    for index, line in enumerate(series):
        colour, dash, marker = COLOURS[index % 5], DASHES[index % 5], MARKERS[index % 5]
        points = [
            (centre, y_for(value), value)
            for centre, value in zip(centres, line.values, strict=True)
            if value is not None
        ]
        for run in _runs(centres, line.values):
            if len(run) > 1:
                parts.append(
                    format_html(
                        '<polyline class="series" data-series="{}" points="{}" fill="none" stroke="{}" '
                        'stroke-width="2"{}/>',
                        line.name,
                        _points(*run),
                        colour,
                        format_html(' stroke-dasharray="{}"', dash) if dash else "",
                    )
                )
        for x, y, value in points:
            parts.append(_marker(marker, x, y, colour, line.name, value))
            parts.append(
                format_html(
                    '<text class="value" x="{}" y="{}" text-anchor="middle" font-size="10" fill="{}">{}</text>',
                    _number(x),
                    _number(y - 8),
                    colour,
                    percent_text(value),
                )
            )
    per_row = max(1, (PLOT_RIGHT - PLOT_LEFT) // LEGEND_ITEM_WIDTH)
    for index, line in enumerate(series):
        row, column = divmod(index, per_row)
        x = PLOT_LEFT + column * LEGEND_ITEM_WIDTH
        y = LEGEND_TOP + row * LEGEND_ROW_HEIGHT
        colour, dash, marker = COLOURS[index % 5], DASHES[index % 5], MARKERS[index % 5]
        parts.append(
            format_html(
                '<g class="legend-item"><line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="2"{}/>{}'
                '<text x="{}" y="{}" fill="{}">{}</text></g>',
                x,
                y,
                x + 28,
                y,
                colour,
                format_html(' stroke-dasharray="{}"', dash) if dash else "",
                _marker(marker, x + 14, y, colour, line.name, None),
                x + 34,
                y + 4,
                INK,
                line.name,
            )
        )
    rows = -(-len(series) // per_row) if series else 0
    return _svg(
        ident, title, _pass_rate_description(title, labels, series), LEGEND_TOP + rows * LEGEND_ROW_HEIGHT, parts
    )


# --- The compact shape, for phones -------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    label: str
    value: Decimal | None
    below: bool = False
    in_progress: bool = False


def compact_measure_chart(*, chart_id: str, title: str, bars: Sequence[Bar], threshold: Decimal | None) -> SafeString:
    """`measure_chart` for a phone: a row a year with its bar across, the threshold a dashed line down
    through the rows, and a year below it hatched and labelled "Below" under its rate."""
    ident = _ident(chart_id) + "-compact"
    rows = [_Row(bar.label, bar.value, bar.below, bar.in_progress) for bar in bars]
    parts: list[SafeString] = [
        format_html(
            '<defs><pattern id="{}-below" patternUnits="userSpaceOnUse" width="8" height="8" '
            'patternTransform="rotate(45)"><rect width="8" height="8" fill="{}"/>'
            '<line x1="0" y1="0" x2="0" y2="8" stroke="#ffffff" stroke-width="4"/></pattern></defs>',
            ident,
            BELOW_COLOUR,
        )
    ]
    top = 0
    if threshold is not None:
        parts.append(
            format_html(
                '<g class="legend-item"><line x1="0" y1="12" x2="24" y2="12" stroke="{}" stroke-width="2" '
                'stroke-dasharray="6 4"/><text class="threshold-label" x="30" y="17" fill="{}">{}</text></g>',
                INK,
                INK,
                _("Threshold %(threshold)s") % {"threshold": threshold_text(threshold)},
            )
        )
        top = 30
    drawn, bottom = _compact_rows(rows, top, fill=BAR_COLOUR, below_fill=f"url(#{ident}-below)")
    parts += [_compact_grid(top, bottom, labelled=True), *drawn]
    if threshold is not None:
        x = compact_x_for(threshold)
        parts.append(
            format_html(
                '<line class="threshold" data-value="{}" x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" '
                'stroke-width="2" stroke-dasharray="6 4"/>',
                threshold,
                _number(x),
                top,
                _number(x),
                bottom,
                INK,
            )
        )
    return _svg(ident, title, _measure_description(title, bars, threshold), bottom + 22, parts, compact=True)


def compact_pass_rate_chart(
    *, chart_id: str, title: str, labels: Sequence[str], series: Sequence[Series]
) -> SafeString:
    """`pass_rate_chart` for a phone: under each track's name, a row for every year someone sat its exam."""
    ident = _ident(chart_id) + "-compact"
    parts: list[SafeString] = []
    top = 0
    for index, line in enumerate(series):
        parts.append(
            format_html(
                '<text class="series-name" x="0" y="{}" font-weight="bold" fill="{}">{}</text>',
                top + 18,
                INK,
                line.name,
            )
        )
        rows = [_Row(label, value) for label, value in zip(labels, line.values, strict=True) if value is not None]
        drawn, bottom = _compact_rows(rows, top + COMPACT_HEADING_HEIGHT, fill=COLOURS[index % 5], series=line.name)
        last = index == len(series) - 1
        parts += [_compact_grid(top + COMPACT_HEADING_HEIGHT, bottom, labelled=last), *drawn]
        top = bottom + (22 if last else 8)
    return _svg(ident, title, _pass_rate_description(title, labels, series), top, parts, compact=True)


def compact_x_for(percent: Decimal | float | int) -> float:
    """Where a percentage sits across a compact chart's bars."""
    clamped = min(max(float(percent), 0.0), 100.0)
    return COMPACT_BAR_LEFT + (COMPACT_BAR_RIGHT - 6 - COMPACT_BAR_LEFT) * clamped / 100.0


def _compact_rows(
    rows: Sequence[_Row], top: int, *, fill: str, below_fill: str = "", series: str = ""
) -> tuple[list[SafeString], int]:
    """A row a year: its label on the left, its bar across, its rate at the right edge; (markup, bottom)."""
    parts: list[SafeString] = []
    y = top
    data = format_html(' data-series="{}"', series) if series else ""
    for row in rows:
        baseline = y + 20
        parts.append(format_html('<text class="x-label" x="0" y="{}" fill="{}">{}</text>', baseline, INK, row.label))
        if row.value is None:
            parts.append(
                format_html(
                    '<text class="{}" x="{}" y="{}" fill="{}">{}</text>',
                    "in-progress" if row.in_progress else "no-data",
                    COMPACT_BAR_LEFT,
                    baseline,
                    INK,
                    _("in progress") if row.in_progress else _("no data"),
                )
            )
            y += COMPACT_ROW_HEIGHT
            continue
        width = compact_x_for(row.value) - COMPACT_BAR_LEFT
        parts.append(
            format_html(
                '<rect class="bar{}"{} data-label="{}" data-value="{}" x="{}" y="{}" width="{}" height="18" '
                'fill="{}" stroke="{}"/>',
                " below" if row.below else "",
                data,
                row.label,
                row.value,
                COMPACT_BAR_LEFT,
                y + 6,
                _number(width),
                below_fill if row.below else fill,
                BELOW_COLOUR if row.below else fill,
            )
        )
        parts.append(
            format_html(
                '<text class="value" x="{}" y="{}" text-anchor="end" fill="{}">{}</text>',
                COMPACT_WIDTH,
                baseline,
                INK,
                percent_text(row.value),
            )
        )
        y += COMPACT_ROW_HEIGHT
        if row.below:
            parts.append(
                format_html(
                    '<text class="below-label" x="{}" y="{}" text-anchor="end" font-weight="bold" '
                    'font-size="{}" fill="{}">{}</text>',
                    COMPACT_WIDTH,
                    y + 8,
                    COMPACT_SMALLEST,
                    BELOW_COLOUR,
                    _("Below"),
                )
            )
            y += COMPACT_BELOW_HEIGHT
    return parts, y


def _compact_grid(top: int, bottom: int, *, labelled: bool) -> SafeString:
    """Light rules down through the rows at every quarter; under the last rows, labelled at 0, 50 and 100%."""
    lines = []
    for percent in GRID_PERCENTS:
        x = _number(compact_x_for(percent))
        lines.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}"/>', x, top, x, bottom, INK if percent == 0 else GRID
            )
        )
        if labelled and percent in (0, 50, 100):
            lines.append(
                format_html(
                    '<text class="axis" x="{}" y="{}" text-anchor="middle" font-size="{}" fill="{}">{}%</text>',
                    x,
                    bottom + 16,
                    COMPACT_SMALLEST,
                    INK,
                    percent,
                )
            )
    return format_html('<g class="grid">{}</g>', _join(lines))


# --- Pieces ----------------------------------------------------------------------------------------


def _ident(chart_id: str) -> str:
    """An id safe in markup and unique on the page (the caller names each chart differently)."""
    return "chart-" + (slugify(chart_id) or "outcomes")


def _number(value: float) -> str:
    """A coordinate, short: 100 rather than 100.0, 12.5 rather than 12.500000001."""
    return f"{value:.1f}".removesuffix(".0")


def _points(*pairs: tuple[float, float]) -> str:
    """Coordinates as SVG lists them: "x,y x,y"."""
    return " ".join(f"{_number(x)},{_number(y)}" for x, y in pairs)


def _slot_width(count: int) -> float:
    return (PLOT_RIGHT - PLOT_LEFT) / max(count, 1)


def _join(parts: Iterable[SafeString | str]) -> SafeString:
    return mark_safe("".join(parts))  # noqa: S308 (every part was built by format_html)


def _svg(
    ident: str, title: str, description: str, content_bottom: int, parts: list[SafeString], *, compact: bool = False
) -> SafeString:
    height = content_bottom + 16 if not compact else content_bottom
    width = COMPACT_WIDTH if compact else WIDTH
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="{}" id="{}" viewBox="0 0 {} {}" width="{}" '
        'height="{}" role="img" aria-label="{}" aria-describedby="{}-desc" '
        'font-family="system-ui, sans-serif" font-size="{}">'
        '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>{}</svg>',
        "outcome-chart outcome-chart-compact" if compact else "outcome-chart",
        ident,
        width,
        height,
        width,
        height,
        title,
        ident,
        COMPACT_FONT if compact else 12,
        ident,
        title,
        ident,
        description,
        _join(parts),
    )


def _grid() -> SafeString:
    """Horizontal rules at every quarter, labelled on the left, and the axis at 0%."""
    lines = [
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}"/>'
            '<text class="axis" x="{}" y="{}" text-anchor="end" fill="{}">{}%</text>',
            PLOT_LEFT,
            _number(y_for(percent)),
            PLOT_RIGHT,
            _number(y_for(percent)),
            INK if percent == 0 else GRID,
            PLOT_LEFT - 6,
            _number(y_for(percent) + 4),
            INK,
            percent,
        )
        for percent in GRID_PERCENTS
    ]
    return format_html('<g class="grid">{}</g>', _join(lines))


def _x_label(centre: float, label: str) -> SafeString:
    return format_html(
        '<text class="x-label" x="{}" y="{}" text-anchor="middle" fill="{}">{}</text>',
        _number(centre),
        PLOT_BOTTOM + 18,
        INK,
        label,
    )


def _marker(shape: str, x: float, y: float, colour: str, name: str, value: Decimal | None) -> SafeString:
    """A point of a track's line, shaped for the track so lines differ in black and white too."""
    data = format_html(' data-series="{}" data-value="{}"', name, value) if value is not None else ""
    if shape == "square":
        return format_html(
            '<rect class="marker"{} x="{}" y="{}" width="8" height="8" fill="{}"/>',
            data,
            _number(x - 4),
            _number(y - 4),
            colour,
        )
    if shape == "triangle":
        points = _points((x, y - 5), (x + 5, y + 4), (x - 5, y + 4))
        return format_html('<polygon class="marker"{} points="{}" fill="{}"/>', data, points, colour)
    if shape == "diamond":
        points = _points((x, y - 5), (x + 5, y), (x, y + 5), (x - 5, y))
        return format_html('<polygon class="marker"{} points="{}" fill="{}"/>', data, points, colour)
    if shape == "cross":
        path = (
            f"M{_points((x - 4, y - 4))}L{_points((x + 4, y + 4))}M{_points((x + 4, y - 4))}L{_points((x - 4, y + 4))}"
        )
        return format_html('<path class="marker"{} d="{}" stroke="{}" stroke-width="2.5"/>', data, path, colour)
    return format_html(
        '<circle class="marker"{} cx="{}" cy="{}" r="4" fill="{}"/>', data, _number(x), _number(y), colour
    )


def _runs(centres: Sequence[float], values: Sequence[Decimal | None]) -> list[list[tuple[float, float]]]:
    """The stretches of consecutive years that have a rate: a year nobody sat breaks the line."""
    runs: list[list[tuple[float, float]]] = [[]]
    for centre, value in zip(centres, values, strict=True):
        if value is None:
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append((centre, y_for(value)))
    return [run for run in runs if run]


def _measure_description(title: str, bars: Sequence[Bar], threshold: Decimal | None) -> str:
    """The chart in words: every year's rate, which fall below, and the threshold."""
    years = []
    for bar in bars:
        if bar.value is None and bar.in_progress:
            years.append(_("%(year)s: in progress") % {"year": bar.label})
        elif bar.value is None:
            years.append(_("%(year)s: no data") % {"year": bar.label})
        elif bar.below:
            years.append(
                _("%(year)s: %(rate)s, below threshold") % {"year": bar.label, "rate": percent_text(bar.value)}
            )
        else:
            years.append(_("%(year)s: %(rate)s") % {"year": bar.label, "rate": percent_text(bar.value)})
    text = "; ".join(years) if years else _("No figures yet.")
    if threshold is not None:
        text = _("%(figures)s. Threshold: %(threshold)s.") % {"figures": text, "threshold": threshold_text(threshold)}
    return f"{title}. {text}"


def _pass_rate_description(title: str, labels: Sequence[str], series: Sequence[Series]) -> str:
    """The chart in words: each track's rate for every year in which someone sat its exam."""
    tracks = []
    for line in series:
        rates = ", ".join(
            _("%(year)s: %(rate)s") % {"year": label, "rate": percent_text(value)}
            for label, value in zip(labels, line.values, strict=True)
            if value is not None
        )
        tracks.append(f"{line.name} ({rates})")
    described = "; ".join(tracks) if tracks else _("No exams sat yet.")
    return f"{title}. {described}"

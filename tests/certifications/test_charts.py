"""The report's SVG charts, read back as XML: a mark per year, the threshold where it belongs, below
threshold said in more than colour, and every text escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from decimal import Decimal

import pytest

from certifications import charts
from certifications.charts import Bar, Series

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ElementTree.Element:
    return ElementTree.fromstring(str(markup))  # noqa: S314 (our own markup, under test)


def find_all(root: ElementTree.Element, tag: str, css_class: str) -> list[ElementTree.Element]:
    return [element for element in root.iter(SVG + tag) if css_class in (element.get("class") or "").split()]


def texts(root: ElementTree.Element, css_class: str) -> list[str]:
    return [element.text or "" for element in find_all(root, "text", css_class)]


RETENTION = [
    Bar("2022", Decimal("75.0")),
    Bar("2023", Decimal("50.0"), below=True),
    Bar("2024", Decimal("100.0")),
]


class TestMeasureChart:
    def test_it_draws_a_bar_per_year_with_its_value_written_above(self) -> None:
        root = parse(charts.measure_chart(chart_id="retention", title="Retention", bars=RETENTION, threshold=None))
        bars = find_all(root, "rect", "bar")
        assert [bar.get("data-label") for bar in bars] == ["2022", "2023", "2024"]
        assert texts(root, "x-label") == ["2022", "2023", "2024"]
        assert texts(root, "value") == ["75.0%", "50.0%", "100.0%"]

    def test_a_bar_is_as_tall_as_its_rate(self) -> None:
        root = parse(charts.measure_chart(chart_id="retention", title="Retention", bars=RETENTION, threshold=None))
        heights = [float(bar.get("height") or 0) for bar in find_all(root, "rect", "bar")]
        assert heights == [charts.PLOT_HEIGHT * 0.75, charts.PLOT_HEIGHT * 0.5, charts.PLOT_HEIGHT]
        for bar in find_all(root, "rect", "bar"):
            assert float(bar.get("y") or 0) + float(bar.get("height") or 0) == charts.PLOT_BOTTOM

    def test_the_threshold_line_is_dashed_at_the_thresholds_height(self) -> None:
        root = parse(
            charts.measure_chart(chart_id="retention", title="Retention", bars=RETENTION, threshold=Decimal("60.00"))
        )
        (line,) = find_all(root, "line", "threshold")
        # 60% of the way up a 200-unit plot that starts 28 units from the top.
        assert float(line.get("y1") or 0) == float(line.get("y2") or 0) == charts.PLOT_TOP + 80 == 108
        assert line.get("stroke-dasharray")
        assert float(line.get("x1") or 0) == charts.PLOT_LEFT
        assert float(line.get("x2") or 0) == charts.PLOT_RIGHT
        assert texts(root, "threshold-label") == ["Threshold 60%"]

    def test_a_bar_below_the_threshold_is_hatched_and_labelled_not_only_coloured(self) -> None:
        root = parse(
            charts.measure_chart(chart_id="retention", title="Retention", bars=RETENTION, threshold=Decimal("60"))
        )
        below = find_all(root, "rect", "below")
        assert [bar.get("data-label") for bar in below] == ["2023"]
        assert below[0].get("fill") == "url(#chart-retention-below)"
        assert root.find(f"{SVG}defs/{SVG}pattern[@id='chart-retention-below']") is not None
        assert texts(root, "below-label") == ["Below"]

    def test_a_year_without_a_rate_says_so_instead_of_a_bar(self) -> None:
        bars = [Bar("2022", None), Bar("2023", Decimal("70"))]
        root = parse(charts.measure_chart(chart_id="placement", title="Placement", bars=bars, threshold=None))
        assert [bar.get("data-label") for bar in find_all(root, "rect", "bar")] == ["2023"]
        assert texts(root, "no-data") == ["no data"]
        assert texts(root, "x-label") == ["2022", "2023"]

    def test_it_has_a_title_a_description_and_an_aria_label(self) -> None:
        root = parse(
            charts.measure_chart(chart_id="retention", title="Retention", bars=RETENTION, threshold=Decimal("60"))
        )
        assert root.get("role") == "img"
        assert root.get("aria-label") == "Retention"
        assert root.findtext(f"{SVG}title") == "Retention"
        description = root.findtext(f"{SVG}desc") or ""
        assert root.get("aria-describedby") == root.find(f"{SVG}desc").get("id")
        assert "2023: 50.0%, below threshold" in description
        assert "Threshold: 60%" in description

    def test_every_text_is_escaped(self) -> None:
        hostile = '<script>alert("x")</script> & "quotes"'
        markup = charts.measure_chart(
            chart_id=hostile, title=hostile, bars=[Bar(hostile, Decimal("40"), below=True)], threshold=Decimal("60")
        )
        assert "<script>" not in markup
        root = parse(markup)  # still well-formed XML
        assert root.findtext(f"{SVG}title") == hostile
        assert root.get("aria-label") == hostile
        assert texts(root, "x-label") == [hostile]
        assert root.get("id") == "chart-scriptalertxscript-quotes"


class TestPassRateChart:
    LABELS = ["2023", "2024", "2025"]

    def chart(self, series: list[Series]) -> ElementTree.Element:
        return parse(charts.pass_rate_chart(chart_id="pass", title="Pass rates", labels=self.LABELS, series=series))

    def test_it_draws_a_point_per_year_and_track_with_its_rate(self) -> None:
        root = self.chart(
            [
                Series("CMA", [Decimal("80.0"), Decimal("75.0"), Decimal("90.0")]),
                Series("RMA", [None, Decimal("50.0"), Decimal("100.0")]),
            ]
        )
        markers = [element for element in root.iter() if element.get("class") == "marker" and element.get("data-value")]
        assert [(marker.get("data-series"), marker.get("data-value")) for marker in markers] == [
            ("CMA", "80.0"),
            ("CMA", "75.0"),
            ("CMA", "90.0"),
            ("RMA", "50.0"),
            ("RMA", "100.0"),
        ]
        assert texts(root, "value") == ["80.0%", "75.0%", "90.0%", "50.0%", "100.0%"]
        assert texts(root, "x-label") == self.LABELS

    def test_a_point_sits_at_its_rates_height(self) -> None:
        root = self.chart([Series("CMA", [Decimal("100"), Decimal("50"), Decimal("0")])])
        circles = find_all(root, "circle", "marker")[:3]
        assert [float(circle.get("cy") or 0) for circle in circles] == [
            charts.PLOT_TOP,
            charts.PLOT_TOP + charts.PLOT_HEIGHT / 2,
            charts.PLOT_BOTTOM,
        ]

    def test_a_year_nobody_sat_breaks_the_line(self) -> None:
        root = self.chart([Series("CMA", [Decimal("80"), None, Decimal("90")])])
        assert find_all(root, "polyline", "series") == []  # two single points, no segment
        root = self.chart([Series("CMA", [Decimal("80"), Decimal("85"), None])])
        (line,) = find_all(root, "polyline", "series")
        assert len((line.get("points") or "").split()) == 2

    def test_each_track_has_its_own_dash_and_a_legend_entry(self) -> None:
        root = self.chart(
            [
                Series("CMA", [Decimal("80")] * 3),
                Series("RMA", [Decimal("60")] * 3),
                Series("CCMA", [Decimal("70")] * 3),
            ]
        )
        dashes = [line.get("stroke-dasharray") for line in find_all(root, "polyline", "series")]
        assert len(set(dashes)) == 3
        legend = [group.findtext(f"{SVG}text") for group in find_all(root, "g", "legend-item")]
        assert legend == ["CMA", "RMA", "CCMA"]

    def test_the_description_reads_every_rate(self) -> None:
        root = self.chart([Series("CMA", [Decimal("80.0"), None, Decimal("90.0")])])
        assert root.findtext(f"{SVG}desc") == "Pass rates. CMA (2023: 80.0%, 2025: 90.0%)"

    def test_track_names_and_labels_are_escaped(self) -> None:
        markup = charts.pass_rate_chart(
            chart_id="pass", title="<b>", labels=["<i>"], series=[Series("<img src=x onerror=alert(1)>", [Decimal(1)])]
        )
        assert "<img" not in markup and "<b>" not in markup and "<i>" not in markup
        root = parse(markup)
        assert [group.findtext(f"{SVG}text") for group in find_all(root, "g", "legend-item")] == [
            "<img src=x onerror=alert(1)>"
        ]


def smallest_text(root: ElementTree.Element) -> float:
    """The smallest font size any text of the drawing is given, in its own units."""
    default = float(root.get("font-size") or 0)
    return min(float(text.get("font-size") or default) for text in root.iter(SVG + "text"))


class TestCompactCharts:
    """The phone's shape: a row a year, bars across, drawn so a 320 px screen shows no text under 11.8 px."""

    def test_a_320_px_phone_draws_its_smallest_text_at_a_readable_size(self) -> None:
        for markup in (
            charts.compact_measure_chart(chart_id="r", title="Retention", bars=RETENTION, threshold=Decimal("60")),
            charts.compact_pass_rate_chart(
                chart_id="p", title="Pass", labels=["2024"], series=[Series("CMA", [Decimal("80")])]
            ),
        ):
            root = parse(markup)
            assert root.get("width") == root.get("viewBox", "").split()[2] == str(charts.COMPACT_WIDTH)
            # A card on a 320 px screen leaves 262 px for the drawing.
            assert smallest_text(root) * 262 / charts.COMPACT_WIDTH >= 11.8
        wide = parse(charts.measure_chart(chart_id="r", title="Retention", bars=RETENTION, threshold=Decimal("60")))
        assert smallest_text(wide) * 262 / charts.WIDTH < 5  # what the wide one would shrink to

    def test_each_year_is_a_row_with_a_bar_as_long_as_its_rate(self) -> None:
        root = parse(charts.compact_measure_chart(chart_id="r", title="Retention", bars=RETENTION, threshold=None))
        bars = find_all(root, "rect", "bar")
        assert [bar.get("data-label") for bar in bars] == ["2022", "2023", "2024"]
        assert texts(root, "x-label") == ["2022", "2023", "2024"]
        assert texts(root, "value") == ["75.0%", "50.0%", "100.0%"]
        full = charts.compact_x_for(100) - charts.COMPACT_BAR_LEFT
        assert [float(bar.get("width") or 0) for bar in bars] == pytest.approx([full * 0.75, full * 0.5, full], abs=0.1)
        tops = [float(bar.get("y") or 0) for bar in bars]
        assert tops == sorted(tops) and len(set(tops)) == 3  # one under another

    def test_below_the_threshold_is_hatched_and_labelled_and_the_threshold_named(self) -> None:
        root = parse(
            charts.compact_measure_chart(chart_id="r", title="Retention", bars=RETENTION, threshold=Decimal("60"))
        )
        below = find_all(root, "rect", "below")
        assert [bar.get("data-label") for bar in below] == ["2023"]
        assert below[0].get("fill") == "url(#chart-r-compact-below)"
        assert root.find(f"{SVG}defs/{SVG}pattern[@id='chart-r-compact-below']") is not None
        assert texts(root, "below-label") == ["Below"]
        (line,) = find_all(root, "line", "threshold")
        assert float(line.get("x1") or 0) == pytest.approx(charts.compact_x_for(60))
        assert texts(root, "threshold-label") == ["Threshold 60%"]
        assert root.get("id") == "chart-r-compact"
        assert "2023: 50.0%, below threshold" in (root.findtext(f"{SVG}desc") or "")

    def test_a_year_in_progress_says_so(self) -> None:
        bars = [Bar("2025", Decimal("70")), Bar("2026", None, in_progress=True)]
        root = parse(charts.compact_measure_chart(chart_id="r", title="Retention", bars=bars, threshold=None))
        assert texts(root, "in-progress") == ["in progress"]

    def test_pass_rates_list_each_tracks_years_under_its_name(self) -> None:
        root = parse(
            charts.compact_pass_rate_chart(
                chart_id="pass",
                title="Pass rates",
                labels=["2023", "2024"],
                series=[Series("CMA", [Decimal("80"), Decimal("90")]), Series("RMA", [None, Decimal("50")])],
            )
        )
        assert texts(root, "series-name") == ["CMA", "RMA"]
        assert [(bar.get("data-series"), bar.get("data-label")) for bar in find_all(root, "rect", "bar")] == [
            ("CMA", "2023"),
            ("CMA", "2024"),
            ("RMA", "2024"),
        ]
        assert texts(root, "value") == ["80.0%", "90.0%", "50.0%"]
        assert root.findtext(f"{SVG}desc") == "Pass rates. CMA (2023: 80.0%, 2024: 90.0%); RMA (2024: 50.0%)"

    def test_every_text_is_escaped(self) -> None:
        hostile = '<script>alert("x")</script>'
        markup = charts.compact_pass_rate_chart(
            chart_id="p", title=hostile, labels=[hostile], series=[Series(hostile, [Decimal(1)])]
        )
        assert "<script>" not in markup
        root = parse(markup)
        assert texts(root, "series-name") == texts(root, "x-label") == [hostile]

"""The outcome report pages: who may see them, that the page shows what the CSV says, that every
figure's list of students is as long as the figure, fixed query counts, and 404 for a bad link."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import Any

import pytest
from django.urls import reverse
from django.utils.html import escape
from django.utils.http import urlencode

from certifications import exports, outcomes
from certifications.models import CertificationTrack, ExamAttempt, JobPlacement, PlacementStatus
from curriculum.models import Program
from tests import factories
from tests.certification_factories import ExamAttemptFactory, JobPlacementFactory, track
from tests.queries import queries_for

PASS, FAIL = ExamAttempt.Result.PASS, ExamAttempt.Result.FAIL


def populate(program: Program, copy: int = 0) -> None:
    """A small MAERB program, by hand. Admitted in 2023 (cohort A): Ana, Ben and Eve graduate in 2024,
    Cai withdraws after the trigger course, Dee before it. Admitted in 2024 (cohort B): Fay graduates
    in 2025 and fails the RMA, Gus is still enrolled.

    MAERB: retention 2023 3/4 (Cai dropped; Dee never in the cohort); 2024 in progress, 2 of 2 so far with
    Gus still enrolled, so the 5-year average pools 2019–2023: 3/4; job placement 2024 2/3, 2025 0/1 (below);
    participation 2024 2/3; passage 2024 2/2 (Ana at her second sitting).
    `copy` makes another set of the same students, for the 5x query counts."""
    first = factories.CohortFactory(
        program=program, code=f"A23-{copy}", start_on=date(2023, 1, 9), expected_graduation_on=date(2024, 5, 15)
    )
    second = factories.CohortFactory(
        program=program, code=f"B24-{copy}", start_on=date(2024, 1, 8), expected_graduation_on=date(2025, 5, 15)
    )

    def enrol(cohort: Any, name: str, **dates: date) -> Any:
        return factories.EnrollmentFactory(
            cohort=cohort, student__first_name=name, student__last_name=f"Copy{copy}", **dates
        )

    trigger_2023, trigger_2024 = date(2023, 3, 1), date(2024, 3, 1)
    ana = enrol(first, "Ana", trigger_course_completed_on=trigger_2023, graduated_on=date(2024, 5, 15))
    ben = enrol(first, "Ben", trigger_course_completed_on=trigger_2023, graduated_on=date(2024, 5, 15))
    enrol(first, "Cai", trigger_course_completed_on=trigger_2023, withdrawn_on=date(2023, 9, 1))
    enrol(first, "Dee", withdrawn_on=date(2023, 2, 1))
    eve = enrol(first, "Eve", trigger_course_completed_on=trigger_2023, graduated_on=date(2024, 5, 15))
    fay = enrol(second, "Fay", trigger_course_completed_on=trigger_2024, graduated_on=date(2025, 5, 15))
    enrol(second, "Gus", trigger_course_completed_on=trigger_2024)
    cma, rma = track(program, "CMA"), track(program, "RMA")
    ExamAttemptFactory(enrollment=ana, track=cma, taken_on=date(2024, 6, 1), result=FAIL)
    ExamAttemptFactory(enrollment=ana, track=cma, taken_on=date(2024, 8, 1), result=PASS)
    ExamAttemptFactory(enrollment=ben, track=cma, taken_on=date(2024, 6, 1), result=PASS)
    ExamAttemptFactory(enrollment=fay, track=rma, taken_on=date(2025, 6, 1), result=FAIL)
    JobPlacementFactory(enrollment=ana, status=PlacementStatus.IN_FIELD)
    JobPlacementFactory(enrollment=ben, status=PlacementStatus.RELATED_FIELD)
    JobPlacementFactory(enrollment=eve, status=PlacementStatus.NOT_EMPLOYED)
    JobPlacementFactory(enrollment=fay, status=PlacementStatus.UNAVAILABLE, unavailable_reason="Moved abroad")


@pytest.fixture
def outcomes_program(program: Program) -> Program:
    populate(program)
    return program


def report_url(program: Program, **query: str) -> str:
    url = reverse("certifications:report", args=[program.code])
    return f"{url}?{urlencode(query)}" if query else url


def students_url(program: Program, accreditor: str, measure: str, year: str, part: str) -> str:
    query = urlencode({"accreditor": accreditor, "measure": measure, "year": year, "part": part})
    return f"{reverse('certifications:report-students', args=[program.code])}?{query}"


def pass_rate_url(program: Program, track_code: str, group: str, key: str, part: str) -> str:
    query = urlencode({"track": track_code, "group": group, "key": key, "part": part})
    return f"{reverse('certifications:pass-rate-students', args=[program.code])}?{query}"


def linked(html: str, url: str, text: str) -> bool:
    """Whether the page has a link to `url` whose text is exactly `text`."""
    return re.search(rf'href="{re.escape(escape(url))}"[^>]*>\s*{re.escape(text)}\s*</a>', html) is not None


def all_urls(program: Program) -> dict[str, str]:
    return {
        "report": report_url(program),
        "report-students": students_url(program, "maerb", "retention", "2023", "numerator"),
        "pass-rate-students": pass_rate_url(program, "CMA", "year", "2024", "taken"),
        "report-csv": reverse("certifications:report-csv", args=[program.code]),
        "report-xlsx": reverse("certifications:report-xlsx", args=[program.code]),
        "report-pdf": reverse("certifications:report-pdf", args=[program.code]),
    }


VIEWS = ["report", "report-students", "pass-rate-students", "report-csv", "report-xlsx", "report-pdf"]


class TestAccess:
    @pytest.mark.parametrize("view", VIEWS)
    @pytest.mark.parametrize("who", ["dana", "carlos"])
    def test_the_director_and_the_coordinator_open_it(self, client, request, outcomes_program, view, who):
        client.force_login(request.getfixturevalue(who))
        assert client.get(all_urls(outcomes_program)[view]).status_code == 200

    @pytest.mark.parametrize("view", VIEWS)
    def test_an_instructor_of_the_program_is_forbidden(self, client, irene, outcomes_program, view):
        client.force_login(irene)
        assert client.get(all_urls(outcomes_program)[view]).status_code == 403

    @pytest.mark.parametrize("view", VIEWS)
    @pytest.mark.parametrize("who", ["olga", "alice"])
    def test_outsiders_and_students_find_nothing(self, client, request, outcomes_program, view, who):
        client.force_login(request.getfixturevalue(who))
        assert client.get(all_urls(outcomes_program)[view]).status_code == 404

    @pytest.mark.parametrize("view", VIEWS)
    def test_another_programs_director_finds_nothing(self, client, outcomes_program, view):
        other = factories.StaffFactory(role="director").user
        client.force_login(other)
        assert client.get(all_urls(outcomes_program)[view]).status_code == 404

    @pytest.mark.parametrize("view", VIEWS)
    def test_only_get_is_allowed(self, client, dana, outcomes_program, view):
        client.force_login(dana)
        assert client.post(all_urls(outcomes_program)[view]).status_code == 405


class TestReportPage:
    def test_it_shows_the_hand_computed_figures_each_linked_to_its_students(self, client, dana, outcomes_program):
        client.force_login(dana)
        html = client.get(report_url(outcomes_program)).content.decode()
        program = outcomes_program
        assert linked(html, students_url(program, "maerb", "retention", "2023", "numerator"), "3")
        assert linked(html, students_url(program, "maerb", "retention", "2023", "denominator"), "4")
        assert linked(html, students_url(program, "maerb", "retention", "2023", "denominator"), "75.0%")
        assert linked(html, students_url(program, "maerb", "job_placement", "2024", "numerator"), "2")
        assert linked(html, students_url(program, "maerb", "job_placement", "2024", "denominator"), "3")
        assert linked(html, students_url(program, "maerb", "job_placement", "2024", "denominator"), "66.7%")
        assert linked(html, students_url(program, "maerb", "credentialing_exam_passage", "2024", "numerator"), "2")
        assert linked(html, students_url(program, "maerb", "credentialing_exam_passage", "2024", "denominator"), "2")

    def test_a_figure_below_its_threshold_is_flagged_in_words(self, client, dana, outcomes_program):
        client.force_login(dana)
        html = client.get(report_url(outcomes_program)).content.decode()
        assert linked(html, students_url(outcomes_program, "maerb", "job_placement", "2025", "denominator"), "0.0%")
        assert "Below threshold" in html

    def test_it_states_each_measures_formula_basis_and_whether_its_threshold_needs_confirming(
        self, client, dana, outcomes_program
    ):
        client.force_login(dana)
        response = client.get(report_url(outcomes_program))
        html = response.content.decode()
        for measure in response.context["report"].measures:
            assert escape(measure.formula) in html
            assert escape(measure.cohort_basis) in html
        # Job placement's threshold comes from a secondary source; retention's is verified.
        assert html.count("Threshold to confirm") == sum(
            measure.needs_confirming for measure in response.context["report"].measures
        )
        assert html.count("Threshold to confirm") >= 1

    def test_in_spanish_the_english_formulas_say_they_are_english(self, client, dana, outcomes_program):
        """The accreditors' formulas and bases are quoted as they publish them, in English: a screen reader
        reading a Spanish page switches voice for them (WCAG 3.1.2)."""
        dana.preferred_language = "es"
        dana.save()
        client.force_login(dana)
        response = client.get(report_url(outcomes_program))
        html = response.content.decode()
        for measure in response.context["report"].measures:
            assert f'<code lang="en">{escape(measure.formula)}</code>' in html
            if measure.cohort_basis:
                assert f'<span lang="en">{escape(measure.cohort_basis)}</span>' in html

    def test_it_draws_a_chart_per_measure_and_the_pass_rates(self, client, dana, outcomes_program):
        client.force_login(dana)
        html = client.get(report_url(outcomes_program)).content.decode()
        assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="outcome-chart"') == 4 + 2
        assert 'id="chart-maerb-retention"' in html
        assert 'class="threshold"' in html
        # Each also laid out for a phone, shown instead of the wide one on a narrow screen.
        assert html.count('class="outcome-chart outcome-chart-compact"') == 4 + 2
        assert 'id="chart-maerb-retention-compact"' in html
        assert html.count('<div class="d-md-none"><svg') == html.count('<div class="d-none d-md-block"><svg') == 6

    def test_the_formulas_and_bases_wait_behind_a_disclosure(self, client, dana, outcomes_program):
        client.force_login(dana)
        response = client.get(report_url(outcomes_program))
        html = response.content.decode()
        disclosures = re.findall(r"<details class=\"measure-details mb-2\">(.*?)</details>", html, re.DOTALL)
        assert len(disclosures) == len(response.context["report"].measures) == 4
        for measure, disclosure in zip(response.context["report"].measures, disclosures, strict=True):
            assert "<summary>Formula and how it is counted</summary>" in disclosure
            assert f'<code lang="en">{escape(measure.formula)}</code>' in disclosure
            assert f'<span lang="en">{escape(measure.cohort_basis)}</span>' in disclosure

    def test_on_a_phone_each_year_is_a_card_whose_figures_carry_their_names(self, client, dana, outcomes_program):
        """A row a year (not a column), so a narrow screen stacks the rows; each cell repeats its column's name
        for sight (the screen reader reads the real header and skips the repeat)."""
        client.force_login(dana)
        html = client.get(report_url(outcomes_program)).content.decode()
        retention = html.split('id="measure-retention"', 1)[1].split("</section>", 1)[0]
        years = re.findall(r'<th scope="row" role="rowheader">([^<]+)</th>', retention)
        assert years == ["2023", "2024", "2025", "5-year weighted average"]
        assert retention.count('<span class="stacked-label" aria-hidden="true">Counted</span>') == 4
        assert 'class="table table-sm align-middle table-stacked outcome-table" role="table"' in retention

    def test_the_abhes_terms_are_columns_explained_in_english_behind_the_disclosure(
        self, client, dana, outcomes_program
    ):
        dana.preferred_language = "es"
        dana.save()
        client.force_login(dana)
        html = client.get(report_url(outcomes_program, accreditor="abhes")).content.decode()
        retention = html.split('id="measure-retention"', 1)[1].split("</section>", 1)[0]
        for term in ("BE", "NS", "RE", "EE", "G"):
            assert f'<th scope="col" role="columnheader" class="text-end small">{term}</th>' in retention
            assert re.search(rf'<dt class="col-sm-3">{term}</dt><dd class="col-sm-9" lang="en">[a-z]', retention)

    def test_the_switch_shows_the_other_accreditors_measures(self, client, dana, outcomes_program):
        client.force_login(dana)
        response = client.get(report_url(outcomes_program, accreditor="abhes"))
        assert response.context["report"].accreditor == "abhes"
        html = response.content.decode()
        assert [table.measure.key for table in response.context["tables"]] == [
            "retention",
            "placement",
            "credentialing",
        ]
        assert "5-year weighted average" not in html
        # ABHES's report year 2024 runs from July 2023 to June 2024: its column says so.
        assert "2023–24" in html
        assert linked(html, students_url(outcomes_program, "abhes", "retention", "2024", "BE"), "4")

    def test_a_year_in_progress_shows_its_students_still_enrolled_and_no_rate(self, client, dana, outcomes_program):
        client.force_login(dana)
        response = client.get(report_url(outcomes_program))
        html = response.content.decode()
        program = outcomes_program
        enrolled_url = students_url(program, "maerb", "retention", "2024", "enrolled")
        assert linked(html, enrolled_url, "1 still enrolled")
        # Its counts so far stay linked, but no rate is shown for them: 2 / 2 is not a result yet.
        assert linked(html, students_url(program, "maerb", "retention", "2024", "numerator"), "2")
        assert not linked(html, students_url(program, "maerb", "retention", "2024", "denominator"), "100.0%")
        assert "Not yet a result" in html
        # Which years are final, measure by measure: retention has 2023 and 2025 (nobody admitted in 2025).
        retention = next(table for table in response.context["tables"] if table.measure.key == "retention")
        assert (retention.final_years, retention.in_progress_years) == ("2023, 2025", "2024 (1 still enrolled)")
        assert "in progress: 2024 (1 still enrolled)" in html
        # The average pools 2019–2023: 3 / 4 = 75.0.
        assert linked(html, students_url(program, "maerb", "retention", "5yr", "denominator"), "75.0%")

    def test_the_formula_names_the_tracks_each_accreditor_counts(self, client, dana, outcomes_program):
        client.force_login(dana)
        maerb = client.get(report_url(outcomes_program)).content.decode()
        assert "Passage = graduates who passed CMA, RMA, CCMA or NCMA ÷ graduates who sat one" in maerb
        assert "Participation = graduates who sat CMA, RMA, CCMA or NCMA ÷ graduates" in maerb
        abhes = client.get(report_url(outcomes_program, accreditor="abhes")).content.decode()
        assert (
            "Credentialing = graduates who passed CMA, RMA, CCMA, CMAA or NCMA (GP) ÷ graduates who sat one (GT)"
            in abhes
        )
        CertificationTrack.objects.filter(program=outcomes_program, code__in=["RMA", "NCMA"]).update(
            counts_for_maerb=False
        )
        maerb = client.get(report_url(outcomes_program)).content.decode()
        assert "Passage = graduates who passed CMA or CCMA ÷ graduates who sat one" in maerb

    def test_the_downloads_follow_the_accreditor_shown_and_offer_the_other(self, client, dana, outcomes_program):
        client.force_login(dana)
        csv_url = reverse("certifications:report-csv", args=[outcomes_program.code])
        html = client.get(report_url(outcomes_program)).content.decode()
        assert f'href="{csv_url}?accreditor=maerb"' in html
        assert f'href="{csv_url}?accreditor=abhes"' in html
        assert f'href="{csv_url}?accreditor=both"' in html
        html = client.get(report_url(outcomes_program, accreditor="abhes")).content.decode()
        pdf_url = reverse("certifications:report-pdf", args=[outcomes_program.code])
        assert f'href="{pdf_url}?accreditor=abhes"' in html

        response = client.get(f"{csv_url}?accreditor=abhes")
        assert response["Content-Disposition"] == f'attachment; filename="outcomes-{outcomes_program.code}-abhes.csv"'
        rows = list(csv.DictReader(io.StringIO(response.content.decode())))
        assert {row["accreditor"] for row in rows} == {"abhes"}
        assert response.content.decode() == exports.outcomes_csv([outcomes_program], "abhes")
        both = list(csv.DictReader(io.StringIO(client.get(f"{csv_url}?accreditor=both").content.decode())))
        assert [row["accreditor"] for row in both] == ["maerb"] * 16 + ["abhes"] * len(rows)
        xlsx_url = reverse("certifications:report-xlsx", args=[outcomes_program.code])
        assert client.get(f"{xlsx_url}?accreditor=both").status_code == 200
        for url in (csv_url, xlsx_url, pdf_url):
            assert client.get(f"{url}?accreditor=joint-commission").status_code == 404
        assert client.get(f"{pdf_url}?accreditor=both").status_code == 404  # one accreditor's report at a time

    def test_an_unknown_accreditor_is_not_found(self, client, dana, outcomes_program):
        client.force_login(dana)
        assert client.get(report_url(outcomes_program, accreditor="joint-commission")).status_code == 404

    def test_a_program_without_students_says_there_are_no_figures_yet(self, client, dana, program):
        client.force_login(dana)
        response = client.get(report_url(program))
        assert response.status_code == 200
        assert b"No figures yet" in response.content

    def test_its_query_count_stays_the_same_as_students_grow(self, client, dana, program):
        populate(program, copy=0)
        once = queries_for(client, dana, report_url(program))
        for copy in range(1, 5):
            populate(program, copy=copy)
        assert queries_for(client, dana, report_url(program)) == once == REPORT_QUERIES


# Session, user and their programs' two-factor rule; the program and whether she may see its reports; the
# measures and the grouped enrollments; the pass rates' tracks and first sittings; whether she may see the
# tracks; the counted tracks; the navigation bar's roles. The summary at the top adds none: it reads the
# figures the tables show.
REPORT_QUERIES = 12


def summary_text(html: str) -> str:
    """The summary at the top, as a person reads it: its words without markup, spaces collapsed."""
    section = html.split('id="summary-heading"', 1)[1].split("</section>", 1)[0]
    return " ".join(re.sub(r"<[^>]+>", " ", section.split(">", 1)[1]).split()).replace(" ,", ",")


class TestSummary:
    """The first thing on the page: how many measures meet their threshold, and each figure below, in words."""

    def test_some_below_names_each_figure_below_with_its_cohort(self, client, dana, outcomes_program):
        # The hand-computed figures of `populate`: retention and participation meet in every year and
        # average; job placement 2025 (0 of 1) and its average 2021–2025 (2 of 4), and passage 2025 (0 of 1),
        # are below.
        client.force_login(dana)
        html = client.get(report_url(outcomes_program)).content.decode()
        assert summary_text(html) == (
            "In short 2 of 4 measures meet their threshold. Below the threshold: "
            "Job placement, graduates of 2025: 0.0%, under its threshold of 60% "
            "Job placement, the 5-year weighted average of 2021–2025: 50.0%, under its threshold of 60% "
            "Credentialing exam passage, graduates of 2025: 0.0%, under its threshold of 60% "
            "A measure meets its threshold when the rate of each final year, and its 5-year weighted average, is "
            "at or above it. A year still in progress is not a result yet."
        )
        # Each names its measure's table and links to the students behind its rate, as the table does.
        summary = html.split('id="summary-heading"', 1)[1].split("</section>", 1)[0]
        assert '<a href="#measure-job_placement">Job placement</a>' in summary
        assert linked(summary, students_url(outcomes_program, "maerb", "job_placement", "2025", "denominator"), "0.0%")
        assert linked(summary, students_url(outcomes_program, "maerb", "job_placement", "5yr", "denominator"), "50.0%")

    def test_all_meet(self, client, dana, program):
        # Admitted 2023 through the trigger course, graduated 2024, placed and passed: 2 of 2 everywhere.
        cohort = factories.CohortFactory(program=program, start_on=date(2023, 1, 9))
        for name in ("Ana", "Ben"):
            enrollment = factories.EnrollmentFactory(
                cohort=cohort,
                student__first_name=name,
                admitted_on=date(2023, 1, 9),
                trigger_course_completed_on=date(2023, 3, 1),
                graduated_on=date(2024, 5, 15),
            )
            JobPlacementFactory(enrollment=enrollment, status=PlacementStatus.IN_FIELD)
            ExamAttemptFactory(enrollment=enrollment, track=track(program, "CMA"), taken_on=date(2024, 6, 1))
        client.force_login(dana)
        text = summary_text(client.get(report_url(program)).content.decode())
        assert text.startswith("In short All 4 measures meet their threshold. A measure meets its threshold when")
        assert "Below" not in text and "No result yet" not in text

    def test_a_measure_with_nobody_in_its_base_has_no_result_and_is_not_said_to_meet(self, client, dana, program):
        # Two graduates of 2024 placed, neither sat an exam: passage has nobody to count (0 of 0).
        cohort = factories.CohortFactory(program=program, start_on=date(2023, 1, 9))
        for name in ("Ana", "Ben"):
            enrollment = factories.EnrollmentFactory(
                cohort=cohort,
                student__first_name=name,
                admitted_on=date(2023, 1, 9),
                trigger_course_completed_on=date(2023, 3, 1),
                graduated_on=date(2024, 5, 15),
            )
            JobPlacementFactory(enrollment=enrollment, status=PlacementStatus.IN_FIELD)
        client.force_login(dana)
        text = summary_text(client.get(report_url(program)).content.decode())
        assert text.startswith("In short 2 of 4 measures meet their threshold. Below the threshold: ")
        assert "Credentialing exam participation, graduates of 2024: 0.0%, under its threshold of 30%" in text
        assert "No result yet: Credentialing exam passage (nobody counted yet)" in text

    def test_no_data_yet_meets_nothing(self, client, dana, program):
        # Admitted this year and still enrolled: retention is in progress, and no one has graduated.
        admitted = program.today().replace(month=1, day=9)
        factories.EnrollmentFactory(
            cohort=factories.CohortFactory(program=program, start_on=admitted),
            admitted_on=admitted,
            trigger_course_completed_on=admitted,
        )
        client.force_login(dana)
        text = summary_text(client.get(report_url(program)).content.decode())
        assert text.startswith(
            "In short None of the 4 measures has a result to hold against its threshold yet. No result yet: "
            f"Retention ({admitted.year} still in progress) Job placement ({admitted.year} still in progress) "
        )
        assert "meet their threshold." not in text and "Below the threshold" not in text

    def test_a_program_without_students_meets_nothing_either(self, client, dana, program):
        client.force_login(dana)
        text = summary_text(client.get(report_url(program)).content.decode())
        assert text.startswith("In short None of the 4 measures has a result to hold against its threshold yet.")

    def test_abhes_names_its_report_years_and_one_measure_meets_in_the_singular(self, client, dana, outcomes_program):
        # ABHES: placement of report year 2024 (July 2023 to June 2024) is 2 of 3, under 70%; credentialing of
        # 2025 is Fay's failed RMA, 0 of 1; retention meets.
        client.force_login(dana)
        text = summary_text(client.get(report_url(outcomes_program, accreditor="abhes")).content.decode())
        assert text == (
            "In short 1 of 3 measures meets its threshold. Below the threshold: "
            "Placement, report year 2023–24: 66.7%, under its threshold of 70% "
            "Credentialing, report year 2024–25: 0.0%, under its threshold of 70% "
            "A measure meets its threshold when the rate of each final report year is at or above it. A year "
            "still in progress is not a result yet."
        )


def page_figures(program: Program, accreditor: str) -> list[dict[str, str]]:
    """The report's figures as the export writes them, for an accreditor the CSV does not cover."""
    return [
        {
            "accreditor": figure.accreditor,
            "measure": figure.measure,
            "year": figure.year_label,
            "numerator": str(figure.numerator),
            "denominator": str(figure.denominator),
            "rate": "" if figure.rate is None else str(figure.rate),
            "meets_threshold": {True: "yes", False: "no", None: ""}[figure.meets_threshold],
        }
        for figure in outcomes.outcome_report(program, accreditor).figures
    ]


def assert_page_shows(html: str, program: Program, rows: list[dict[str, str]]) -> None:
    for row in rows:
        where = (row["accreditor"], row["measure"], row["year"])
        numerator_url = students_url(program, *where, "numerator")
        denominator_url = students_url(program, *where, "denominator")
        assert linked(html, numerator_url, row["numerator"]), row
        assert linked(html, denominator_url, row["denominator"]), row
        if row["rate"]:
            assert linked(html, denominator_url, f"{row['rate']}%"), row
    below = sum(row["meets_threshold"] == "no" for row in rows)
    assert html.count("⚠ Below threshold") == below


class TestThePageMatchesTheExport:
    def test_every_figure_of_the_csv_is_on_the_page_with_the_same_numbers(self, client, dana, outcomes_program):
        client.force_login(dana)
        response = client.get(reverse("certifications:report-csv", args=[outcomes_program.code]))
        assert response["Content-Disposition"] == f'attachment; filename="outcomes-{outcomes_program.code}.csv"'
        assert response["Content-Type"].startswith("text/csv")
        downloaded = response.content.decode()
        assert downloaded == exports.outcomes_csv([outcomes_program])
        rows = list(csv.DictReader(io.StringIO(downloaded)))
        assert list(rows[0]) == exports.EXPORT_COLUMNS
        assert {row["accreditor"] for row in rows} == {"maerb"}
        assert len(rows) == 4 * 4  # four measures, three years and the 5-year average
        html = client.get(report_url(outcomes_program)).content.decode()
        assert_page_shows(html, outcomes_program, rows)
        for row in rows:
            if row["threshold"]:
                assert f"threshold {row['threshold']}%" in html

    def test_the_abhes_page_shows_the_abhes_figures(self, client, dana, outcomes_program):
        client.force_login(dana)
        html = client.get(report_url(outcomes_program, accreditor="abhes")).content.decode()
        assert_page_shows(html, outcomes_program, page_figures(outcomes_program, "abhes"))

    def test_the_spreadsheet_and_the_pdf_download_as_files(self, client, dana, outcomes_program):
        client.force_login(dana)
        xlsx = client.get(reverse("certifications:report-xlsx", args=[outcomes_program.code]))
        assert xlsx["Content-Disposition"] == f'attachment; filename="outcomes-{outcomes_program.code}.xlsx"'
        assert xlsx.content.startswith(b"PK")
        pdf = client.get(reverse("certifications:report-pdf", args=[outcomes_program.code]))
        assert pdf["Content-Disposition"] == f'attachment; filename="annual-report-{outcomes_program.code}.pdf"'
        assert pdf["Content-Type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")


def figure_parts(figure: outcomes.Figure) -> dict[str, int]:
    """Every list a figure links to, and how long it must be."""
    parts = {"numerator": figure.numerator, "denominator": figure.denominator, **dict(figure.terms)}
    if figure.accreditor == "maerb" and figure.measure == "job_placement":
        parts["excluded"] = figure.excluded
        parts["unavailable"] = figure.unavailable
    return parts


class TestPlacementStatuses:
    def test_each_placement_measure_says_which_statuses_count(self, client, dana, outcomes_program):
        client.force_login(dana)

        maerb = client.get(report_url(outcomes_program)).content.decode()
        abhes = client.get(report_url(outcomes_program, accreditor="abhes")).content.decode()

        assert maerb.count('class="col-sm-9 placement-legend"') == 1
        assert "Continuing education, Serving in the military. Left out of the denominator: none." in maerb
        assert abhes.count('class="col-sm-9 placement-legend"') == 1
        assert "Left out of the denominator: Unavailable for employment, Continuing education, Serving in the" in abhes

    def test_maerb_lists_the_graduates_recorded_as_unavailable_with_a_hint(self, client, dana, outcomes_program):
        # Fay, a 2025 graduate, is recorded as unavailable (moved abroad): MAERB counts her as not placed.
        client.force_login(dana)

        page = client.get(report_url(outcomes_program)).content.decode()
        abhes = client.get(report_url(outcomes_program, accreditor="abhes")).content.decode()

        assert "Recorded as unavailable for employment" in page
        assert escape("Military service now has a status of its own, “Serving in the military”") in page
        url = students_url(outcomes_program, "maerb", "job_placement", "2025", "unavailable")
        assert f'<a href="{escape(url)}">1</a>' in page
        listed = client.get(url)
        assert [row["enrollment"].student.first_name for row in listed.context["rows"]] == ["Fay"]
        assert "Graduates of 2025 recorded as unavailable for employment: 1" in listed.content.decode()
        # ABHES leaves them out (U) already: no hint there, and no such list.
        assert "Recorded as unavailable for employment" not in abhes
        abhes_url = students_url(outcomes_program, "abhes", "placement", "2025", "unavailable")
        assert client.get(abhes_url).status_code == 404

    def test_no_hint_once_nobody_is_recorded_as_unavailable(self, client, dana, outcomes_program):
        JobPlacement.objects.filter(status=PlacementStatus.UNAVAILABLE).update(
            status=PlacementStatus.MILITARY_SERVICE, unavailable_reason=""
        )
        client.force_login(dana)

        page = client.get(report_url(outcomes_program)).content.decode()

        assert "Recorded as unavailable for employment" not in page
        # Fay now counts as placed: job placement 2025 is 1 of 1.
        assert outcomes.outcome_report(outcomes_program, "maerb").figure("job_placement", 2025).numerator == 1


class TestStudentsBehindAFigure:
    @pytest.mark.parametrize("accreditor", ["maerb", "abhes"])
    def test_each_list_is_as_long_as_its_figure(self, client, dana, outcomes_program, accreditor):
        client.force_login(dana)
        checked = 0
        for figure in outcomes.outcome_report(outcomes_program, accreditor).figures:
            for part, number in figure_parts(figure).items():
                url = students_url(outcomes_program, accreditor, figure.measure, figure.year_label, part)
                response = client.get(url)
                assert response.status_code == 200, url
                assert response.context["page"].paginator.count == number, url
                assert len(response.context["rows"]) == number, url
                assert f": {number}</h1>" in response.content.decode(), url
                checked += 1
        assert checked > 20

    def test_the_heading_says_the_figure_in_words(self, client, dana, outcomes_program):
        client.force_login(dana)
        url = students_url(outcomes_program, "maerb", "credentialing_exam_participation", "2024", "numerator")
        response = client.get(url)
        html = response.content.decode()
        assert "Graduates of 2024 who sat a credentialing exam: 2</h1>" in html
        names = [row["enrollment"].student.first_name for row in response.context["rows"]]
        assert names == ["Ana", "Ben"]
        assert "Employed in the field" in html and "Passed" in html and "Failed" in html

    def test_the_five_year_average_lists_the_students_of_its_five_final_years(self, client, dana, outcomes_program):
        # 2024 is in progress (Gus is still enrolled): the average pools 2019–2023, whose only students are the
        # four of 2023 who completed the trigger course.
        client.force_login(dana)
        response = client.get(students_url(outcomes_program, "maerb", "retention", "5yr", "denominator"))
        assert "Students admitted in 2019–2023 who completed the trigger course: 4</h1>" in response.content.decode()

    def test_a_year_in_progress_lists_its_students_still_enrolled(self, client, dana, outcomes_program):
        client.force_login(dana)
        response = client.get(students_url(outcomes_program, "maerb", "retention", "2024", "enrolled"))
        html = response.content.decode()
        assert "Students admitted in 2024 still enrolled (neither graduated nor withdrawn): 1</h1>" in html
        assert [row["enrollment"].student.first_name for row in response.context["rows"]] == ["Gus"]
        assert "in progress, 2 of 2 so far, 1 still enrolled" in html
        # A final year has no such list.
        final = client.get(students_url(outcomes_program, "maerb", "retention", "2023", "enrolled"))
        assert final.status_code == 404

    def test_an_abhes_report_year_is_named_by_its_months(self, client, dana, outcomes_program):
        client.force_login(dana)
        response = client.get(students_url(outcomes_program, "abhes", "placement", "2024", "numerator"))
        assert "the year July 2023 to June 2024" in response.content.decode()

    @pytest.mark.parametrize(
        "query",
        [
            {"accreditor": "maerb", "measure": "happiness", "year": "2024", "part": "numerator"},
            {"accreditor": "maerb", "measure": "graduate_survey", "year": "2024", "part": "numerator"},
            {"accreditor": "maerb", "measure": "retention", "year": "2024", "part": "everyone"},
            {"accreditor": "maerb", "measure": "retention", "year": "2024", "part": "excluded"},
            {"accreditor": "maerb", "measure": "retention", "year": "2024", "part": "BE"},
            {"accreditor": "maerb", "measure": "retention", "year": "twenty", "part": "numerator"},
            {"accreditor": "maerb", "measure": "retention", "year": "1990", "part": "numerator"},
            {"accreditor": "maerb", "measure": "retention", "year": "99999999999999999999", "part": "numerator"},
            {"accreditor": "maerb", "measure": "retention", "year": "", "part": "numerator"},
            {"accreditor": "abhes", "measure": "retention", "year": "5yr", "part": "numerator"},
            {"accreditor": "abhes", "measure": "job_placement", "year": "2024", "part": "numerator"},
            {"accreditor": "nobody", "measure": "retention", "year": "2024", "part": "numerator"},
            {},
        ],
    )
    def test_a_bad_link_is_not_found(self, client, dana, outcomes_program, query):
        client.force_login(dana)
        url = reverse("certifications:report-students", args=[outcomes_program.code])
        assert client.get(f"{url}?{urlencode(query)}").status_code == 404

    def test_its_query_count_stays_the_same_as_students_grow(self, client, dana, program):
        populate(program, copy=0)
        urls = [
            students_url(program, "maerb", "credentialing_exam_participation", "2024", "denominator"),
            students_url(program, "maerb", "retention", "5yr", "denominator"),
            students_url(program, "abhes", "retention", "2024", "denominator"),
        ]
        once = [queries_for(client, dana, url) for url in urls]
        for copy in range(1, 5):
            populate(program, copy=copy)
        assert [queries_for(client, dana, url) for url in urls] == once
        response = client.get(urls[1])
        assert response.context["page"].paginator.count == 5 * 4

    def test_a_long_list_is_paged_by_fifty(self, client, dana, program):
        for copy in range(13):
            populate(program, copy=copy)
        client.force_login(dana)
        url = students_url(program, "maerb", "retention", "2024", "denominator")
        first = client.get(url)
        assert first.context["page"].paginator.count == 26
        assert len(first.context["rows"]) == 26
        url = students_url(program, "maerb", "retention", "5yr", "denominator")
        first = client.get(url)
        assert first.context["page"].paginator.count == 52 and len(first.context["rows"]) == 50
        assert "page=2" in first.content.decode()
        second = client.get(f"{url}&page=2")
        assert len(second.context["rows"]) == 2
        assert "Students admitted in 2019–2023 who completed the trigger course: 52" in second.content.decode()


class TestStudentsBehindAPassRate:
    def test_each_list_is_as_long_as_its_figure(self, client, dana, outcomes_program):
        client.force_login(dana)
        rates = outcomes.pass_rates(outcomes_program)
        assert rates
        for rate in rates:
            for part in ("taken", "passed_first", "passed_eventually"):
                url = pass_rate_url(outcomes_program, rate.track_code, rate.group, rate.key, part)
                response = client.get(url)
                assert response.status_code == 200, url
                assert response.context["page"].paginator.count == getattr(rate, part), url

    def test_every_pass_rate_number_on_the_report_links_to_its_list(self, client, dana, outcomes_program):
        client.force_login(dana)
        html = client.get(report_url(outcomes_program)).content.decode()
        rates = outcomes.pass_rates(outcomes_program)
        for rate in rates:
            for part in ("taken", "passed_first", "passed_eventually"):
                url = pass_rate_url(outcomes_program, rate.track_code, rate.group, rate.key, part)
                # A row of zeros (a track nobody of that year or cohort sat) is left off the tables.
                assert linked(html, url, str(getattr(rate, part))) is bool(rate.taken), (rate, part)
        nobody = [
            code
            for code in dict.fromkeys(r.track_code for r in rates)
            if not any(r.taken for r in rates if r.track_code == code)
        ]
        assert nobody, "the program offers tracks nobody sat"
        assert f"Offered, but nobody has sat the exam yet: {', '.join(nobody)}." in html

    def test_first_time_and_eventual_passes_differ_for_a_retake(self, client, dana, outcomes_program):
        client.force_login(dana)
        first = client.get(pass_rate_url(outcomes_program, "CMA", "year", "2024", "passed_first"))
        eventually = client.get(pass_rate_url(outcomes_program, "CMA", "year", "2024", "passed_eventually"))
        assert [row["enrollment"].student.first_name for row in first.context["rows"]] == ["Ben"]
        assert [row["enrollment"].student.first_name for row in eventually.context["rows"]] == ["Ana", "Ben"]
        assert "Graduates of 2024 who passed the CMA exam at their first sitting: 1</h1>" in first.content.decode()
        cohort = client.get(pass_rate_url(outcomes_program, "CMA", "cohort", "A23-0", "taken"))
        assert "Students of cohort A23-0 who sat the CMA exam: 2</h1>" in cohort.content.decode()

    @pytest.mark.parametrize(
        "query",
        [
            {"track": "XYZ", "group": "year", "key": "2024", "part": "taken"},
            {"track": "CMA", "group": "decade", "key": "2024", "part": "taken"},
            {"track": "CMA", "group": "year", "key": "1990", "part": "taken"},
            {"track": "CMA", "group": "year", "key": "later", "part": "taken"},
            {"track": "CMA", "group": "cohort", "key": "NOPE", "part": "taken"},
            {"track": "CMA", "group": "year", "key": "2024", "part": "failed"},
            {},
        ],
    )
    def test_a_bad_link_is_not_found(self, client, dana, outcomes_program, query):
        client.force_login(dana)
        url = reverse("certifications:pass-rate-students", args=[outcomes_program.code])
        assert client.get(f"{url}?{urlencode(query)}").status_code == 404

    def test_its_query_count_stays_the_same_as_students_grow(self, client, dana, program):
        populate(program, copy=0)
        url = pass_rate_url(program, "CMA", "year", "2024", "taken")
        once = queries_for(client, dana, url)
        for copy in range(1, 5):
            populate(program, copy=copy)
        assert queries_for(client, dana, url) == once


class TestProgramPage:
    def test_the_director_finds_the_reports_imports_and_tracks_there(self, client, dana, program):
        client.force_login(dana)
        html = client.get(reverse("curriculum:program-detail", args=[program.code])).content.decode()
        assert "Certifications and outcomes" in html
        for name in ("report", "exam-import", "outcomes-import", "track-list"):
            assert f'href="{reverse(f"certifications:{name}", args=[program.code])}"' in html

    def test_an_instructor_is_not_offered_them(self, client, irene, program):
        client.force_login(irene)
        response = client.get(reverse("curriculum:program-detail", args=[program.code]))
        assert response.status_code == 200
        assert reverse("certifications:report", args=[program.code]) not in response.content.decode()

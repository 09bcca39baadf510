"""Credentials, exams and graduate outcomes, as data.

A program keeps its own copy of each certification track (seeded from `reference/`), so one
program's director confirming a retake wait never changes another school's rules. Outcome
measures and their thresholds belong to the accreditors and are shared by every program.
Every figure a report shows is computed from the rows here and from enrollment dates.
"""

from __future__ import annotations

import calendar
import re
import secrets
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from curriculum.models import Confidence, UploadedImport


class Focus(models.TextChoices):
    CLINICAL = "clinical", _("Clinical")
    ADMINISTRATIVE = "administrative", _("Administrative")
    BOTH = "both", _("Clinical and administrative")


class CertificationTrack(models.Model):
    """A credential a program prepares students for (CMA, RMA, CCMA, CMAA, NCMA) and its rules.

    `provenance` maps a field name to {"source": …, "confidence": …}, as read from the reference
    file; a director editing a field records it as confirmed."""

    program = models.ForeignKey("curriculum.Program", on_delete=models.CASCADE, related_name="certification_tracks")
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=200)
    awarding_body = models.CharField(_("awarding body"), max_length=200)
    focus = models.CharField(_("focus"), max_length=20, choices=Focus.choices, default=Focus.BOTH)
    is_offered = models.BooleanField(
        _("offered by the program"), default=True, help_text=_("Students may choose it as their target.")
    )
    # The exam.
    scored_items = models.PositiveSmallIntegerField(_("scored items"), null=True, blank=True)
    pretest_items = models.PositiveSmallIntegerField(_("unscored pretest items"), null=True, blank=True)
    total_items = models.PositiveSmallIntegerField(_("total items"), null=True, blank=True)
    exam_minutes = models.PositiveSmallIntegerField(_("exam time (minutes)"), null=True, blank=True)
    passing_score = models.PositiveSmallIntegerField(_("passing scaled score"), null=True, blank=True)
    score_scale = models.CharField(_("score scale"), max_length=40, blank=True)
    # Eligibility: the routes in words, and the rules the checklist computes.
    eligibility_routes = ArrayField(models.TextField(), verbose_name=_("eligibility routes"), default=list, blank=True)
    completion_window_days = models.PositiveSmallIntegerField(
        _("days before completion a student may test"),
        null=True,
        blank=True,
        help_text=_("Empty: only after completing the program."),
    )
    graduate_window_months = models.PositiveSmallIntegerField(
        _("months after graduation the school route stays open"),
        null=True,
        blank=True,
        help_text=_("Empty: no limit."),
    )
    requires_practicum = models.BooleanField(_("practicum hours must be approved"), default=True)
    requires_all_competencies = models.BooleanField(
        _("every psychomotor and affective competency must be achieved"), default=True
    )
    # Which exams count is each accreditor's own rule, so each has its flag: MAERB counts the medical
    # assisting credentials it names, ABHES the credentials the program prepares students for.
    counts_for_maerb = models.BooleanField(
        _("counts for MAERB"),
        default=False,
        help_text=_("Counted for MAERB's credentialing exam participation and passage."),
    )
    counts_for_abhes = models.BooleanField(
        _("counts for ABHES"),
        default=True,
        help_text=_("Counted for ABHES's credentialing rate."),
    )
    # Retakes.
    retake_wait_days = models.PositiveSmallIntegerField(_("days to wait after a fail"), null=True, blank=True)
    max_attempts = models.PositiveSmallIntegerField(
        _("attempts allowed"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    wait_after_max_attempts_days = models.PositiveSmallIntegerField(
        _("days to wait once the attempts are used"),
        null=True,
        blank=True,
        help_text=_("Empty: failing the last allowed attempt ends eligibility."),
    )
    # Recertification.
    recertification_months = models.PositiveSmallIntegerField(
        _("recertification cycle (months)"), null=True, blank=True
    )
    ce_required = models.PositiveSmallIntegerField(_("continuing education required per cycle"), null=True, blank=True)
    ce_breakdown = models.JSONField(_("continuing education breakdown"), null=True, blank=True)
    annual_fee_required = models.BooleanField(_("annual fee required"), null=True, blank=True)
    recertification_alternative = models.TextField(_("alternative to recertify"), blank=True)
    lapse_rule = models.TextField(_("lapse rule"), blank=True)
    provenance = models.JSONField(default=dict, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("certification track")
        verbose_name_plural = _("certification tracks")
        ordering = ["program", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["program", "code"], name="track_code_unique_in_program"),
            models.CheckConstraint(
                condition=Q(max_attempts__isnull=True) | Q(max_attempts__gte=1), name="track_max_attempts_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def display_name(self) -> str:
        """The name a person reads, with the code once: the reference names already carry it
        ("Certified Medical Assistant (CMA (AAMA))"), a school's own track may not."""
        named = re.search(rf"\b{re.escape(self.code)}\b", self.name) is not None
        return self.name if named else f"{self.name} ({self.code})"

    def confidence_of(self, field: str) -> str:
        return str((self.provenance.get(field) or {}).get("confidence", ""))

    def source_of(self, field: str) -> str:
        return str((self.provenance.get(field) or {}).get("source", ""))

    @property
    def unconfirmed_fields(self) -> list[str]:
        """Fields whose value came from a secondary source or memory and nobody has confirmed."""
        return sorted(
            field
            for field, origin in self.provenance.items()
            if origin.get("confidence") in Confidence.needs_confirming()
        )

    def expiry_for(self, issued_on: date) -> date | None:
        """When a credential issued on that day lapses: the cycle counts from the end of the month
        certified (AAMA's rule, and a safe reading of the others)."""
        if not self.recertification_months:
            return None
        year, month = divmod_month(issued_on.year, issued_on.month + self.recertification_months)
        return date(year, month, calendar.monthrange(year, month)[1])

    def retake_refusal(self, taken: list[ExamAttempt], on: date) -> tuple[str, date | None]:
        """Why an attempt on `on` is refused, and from when one would be allowed (None: never).

        `taken` are the student's attempts at this track that were sat (passed or failed), in any
        order. An empty reason means the attempt may be scheduled."""
        sat = sorted((a for a in taken if a.result in (ExamAttempt.Result.PASS, ExamAttempt.Result.FAIL)), key=_taken)
        if any(a.result == ExamAttempt.Result.PASS for a in sat):
            return str(_("The student has already passed this exam.")), None
        if not sat:
            return "", None
        last = sat[-1].taken_on
        assert last is not None  # sat attempts have a date (a database constraint)
        if self.max_attempts and len(sat) >= self.max_attempts:
            if self.wait_after_max_attempts_days is None:
                return (
                    str(
                        _("All %(count)s attempts allowed for %(track)s are used; the student may not test again.")
                        % {"count": self.max_attempts, "track": self.code}
                    ),
                    None,
                )
            allowed = date.fromordinal(last.toordinal() + self.wait_after_max_attempts_days)
        elif self.retake_wait_days:
            allowed = date.fromordinal(last.toordinal() + self.retake_wait_days)
        else:
            return "", None
        if on < allowed:
            return (
                str(
                    _("After a failed attempt on %(last)s, %(track)s may be retaken from %(allowed)s.")
                    % {"last": last.isoformat(), "track": self.code, "allowed": allowed.isoformat()}
                ),
                allowed,
            )
        return "", None


# The track's flag that says whether its exam counts for each accreditor.
COUNTS_FOR = {"maerb": "counts_for_maerb", "abhes": "counts_for_abhes"}


def divmod_month(year: int, month: int) -> tuple[int, int]:
    """(year, month) for a month number that may run past December."""
    extra, index = divmod(month - 1, 12)
    return year + extra, index + 1


def _taken(attempt: ExamAttempt) -> date:
    return attempt.taken_on or date.min


class ContentDomain(models.Model):
    """One domain of a track's content outline, its weight, and the competency tags that prepare it."""

    track = models.ForeignKey(CertificationTrack, on_delete=models.CASCADE, related_name="domains")
    name = models.CharField(_("domain"), max_length=200)
    weight_percent = models.DecimalField(
        _("weight (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    items = models.PositiveSmallIntegerField(_("exam items"), null=True, blank=True)
    tags = ArrayField(
        models.CharField(max_length=60),
        verbose_name=_("competency tags"),
        default=list,
        blank=True,
        help_text=_("Competencies with any of these tags prepare the domain."),
    )
    order = models.PositiveSmallIntegerField(default=0)
    source = models.CharField(max_length=300, blank=True)
    confidence = models.CharField(max_length=20, choices=Confidence.choices, blank=True)

    class Meta:
        verbose_name = _("content domain")
        verbose_name_plural = _("content domains")
        ordering = ["track", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["track", "name"], name="content_domain_unique_in_track"),
            models.CheckConstraint(
                condition=Q(weight_percent__isnull=True) | Q(weight_percent__gte=0, weight_percent__lte=100),
                name="content_domain_weight_percent",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TargetTrack(models.Model):
    """The credential a student is aiming for: their readiness and eligibility are shown for it."""

    enrollment = models.OneToOneField("curriculum.Enrollment", on_delete=models.CASCADE, related_name="target_track")
    track = models.ForeignKey(CertificationTrack, on_delete=models.PROTECT, related_name="+")
    chosen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("target track")
        verbose_name_plural = _("target tracks")

    def __str__(self) -> str:
        return f"{self.enrollment} → {self.track}"


class ExamAttemptQuerySet(models.QuerySet["ExamAttempt"]):
    def sat(self) -> ExamAttemptQuerySet:
        """Attempts the student sat: passed or failed (a no-show or a booking is not an attempt)."""
        return self.filter(result__in=(ExamAttempt.Result.PASS, ExamAttempt.Result.FAIL))

    def upcoming(self, today: date) -> ExamAttemptQuerySet:
        return self.filter(result="", scheduled_on__gte=today)


class ExamAttempt(models.Model):
    """One sitting of a certification exam: booked (no result yet), then passed, failed or missed."""

    class Result(models.TextChoices):
        PASS = "pass", _("Passed")
        FAIL = "fail", _("Failed")
        NO_SHOW = "no_show", _("Did not attend")

    class Source(models.TextChoices):
        MANUAL = "manual", _("Entered by staff")
        IMPORT = "import", _("Imported")

    enrollment = models.ForeignKey("curriculum.Enrollment", on_delete=models.PROTECT, related_name="exam_attempts")
    track = models.ForeignKey(CertificationTrack, on_delete=models.PROTECT, related_name="attempts")
    scheduled_on = models.DateField(_("scheduled for"), null=True, blank=True)
    location = models.CharField(_("place"), max_length=200, blank=True)
    taken_on = models.DateField(_("taken on"), null=True, blank=True)
    result = models.CharField(_("result"), max_length=10, choices=Result.choices, blank=True)
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=1, null=True, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(null=True, blank=True)

    objects = ExamAttemptQuerySet.as_manager()

    class Meta:
        verbose_name = _("exam attempt")
        verbose_name_plural = _("exam attempts")
        ordering = ["enrollment", "track", "taken_on", "scheduled_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(result__in=("pass", "fail")) | Q(taken_on__isnull=False),
                name="exam_attempt_sat_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(result__in=("", "no_show")) | (Q(scheduled_on__isnull=False) & Q(taken_on__isnull=True)),
                name="exam_attempt_booking_has_date",
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(result__in=("pass", "fail")), name="exam_attempt_score_when_sat"
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=0), name="exam_attempt_score_positive"
            ),
            models.UniqueConstraint(
                fields=["enrollment", "track", "taken_on"],
                condition=Q(taken_on__isnull=False),
                name="exam_attempt_one_sitting_a_day",
            ),
            models.UniqueConstraint(
                fields=["enrollment", "track"], condition=Q(result=""), name="exam_attempt_one_booking_per_track"
            ),
        ]
        indexes = [models.Index(fields=["track", "result"], name="exam_attempt_track_result")]

    def __str__(self) -> str:
        return f"{self.track} — {self.enrollment.student}"

    @property
    def is_booked(self) -> bool:
        return self.result == ""

    @property
    def day(self) -> date | None:
        return self.taken_on or self.scheduled_on


class Credential(models.Model):
    """A credential earned by passing an exam; it lapses when the track's cycle runs out."""

    enrollment = models.ForeignKey("curriculum.Enrollment", on_delete=models.PROTECT, related_name="credentials")
    track = models.ForeignKey(CertificationTrack, on_delete=models.PROTECT, related_name="credentials")
    exam_attempt = models.OneToOneField(ExamAttempt, on_delete=models.PROTECT, related_name="credential")
    number = models.CharField(_("credential number"), max_length=60, blank=True)
    issued_on = models.DateField(_("issued on"))
    expires_on = models.DateField(_("expires on"), null=True, blank=True)

    class Meta:
        verbose_name = _("credential")
        verbose_name_plural = _("credentials")
        ordering = ["enrollment", "issued_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["track", "number"], condition=~Q(number=""), name="credential_number_unique_in_track"
            ),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gt=models.F("issued_on")),
                name="credential_expires_after_issue",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.track} {self.number}".strip()

    @property
    def recertification_due_on(self) -> date | None:
        return self.expires_on

    def is_current(self, on: date) -> bool:
        return self.expires_on is None or self.expires_on >= on


class PlacementStatus(models.TextChoices):
    IN_FIELD = "in_field", _("Employed in the field")
    RELATED_FIELD = "related_field", _("Employed in a related field")
    NOT_EMPLOYED = "not_employed", _("Not employed")
    UNAVAILABLE = "unavailable", _("Unavailable for employment")
    CONTINUING_EDUCATION = "continuing_education", _("Continuing education")
    # Its own status, not "unavailable" with a reason: MAERB counts it as placed, ABHES leaves it out (U).
    MILITARY_SERVICE = "military_service", _("Serving in the military")


class JobPlacement(models.Model):
    """Where a graduate stands for job placement, with the evidence an accreditor may ask for."""

    enrollment = models.OneToOneField("curriculum.Enrollment", on_delete=models.PROTECT, related_name="job_placement")
    status = models.CharField(_("status"), max_length=30, choices=PlacementStatus.choices)
    employed_on = models.DateField(_("employed since"), null=True, blank=True)
    employer = models.CharField(_("employer"), max_length=200, blank=True)
    position = models.CharField(_("position"), max_length=200, blank=True)
    unavailable_reason = models.TextField(_("why unavailable"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("job placement")
        verbose_name_plural = _("job placements")
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="unavailable") | ~Q(unavailable_reason=""),
                name="job_placement_unavailable_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enrollment.student}: {self.get_status_display()}"


class Accreditor(models.TextChoices):
    MAERB = "maerb", _("MAERB (CAAHEP)")
    ABHES = "abhes", _("ABHES")


class OutcomeMeasure(models.Model):
    """An accreditor's outcome measure, its definition in words, and the threshold in force.

    `placed_statuses` and `excluded_statuses` say, for a placement measure, which graduate statuses
    count as placed and which leave the denominator (ABHES's U)."""

    accreditor = models.CharField(_("accreditor"), max_length=10, choices=Accreditor.choices)
    key = models.SlugField(_("key"), max_length=60)
    formula = models.TextField(_("formula"))
    cohort_basis = models.CharField(_("cohort basis"), max_length=200, blank=True)
    threshold_percent = models.DecimalField(
        _("threshold (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    min_return_rate_percent = models.DecimalField(
        _("minimum survey return rate (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    placed_statuses = ArrayField(
        models.CharField(max_length=30, choices=PlacementStatus.choices), default=list, blank=True
    )
    excluded_statuses = ArrayField(
        models.CharField(max_length=30, choices=PlacementStatus.choices), default=list, blank=True
    )
    terms = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=300, blank=True)
    confidence = models.CharField(max_length=20, choices=Confidence.choices, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("outcome measure")
        verbose_name_plural = _("outcome measures")
        ordering = ["accreditor", "order"]
        constraints = [
            models.UniqueConstraint(fields=["accreditor", "key"], name="outcome_measure_key_unique"),
            models.CheckConstraint(
                condition=Q(threshold_percent__isnull=True) | Q(threshold_percent__gte=0, threshold_percent__lte=100),
                name="outcome_measure_threshold_percent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_accreditor_display()}: {self.key}"

    @property
    def needs_confirming(self) -> bool:
        return self.confidence in Confidence.needs_confirming()


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """A private address that serves one person's exam dates to a calendar app, until revoked."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds")
    token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(revoked_at__isnull=True), name="calendar_feed_one_open"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} calendar feed"


class ResultImport(UploadedImport):
    """An uploaded exam results or graduate outcomes file: previewed first, applied once the person who
    uploaded it confirms."""

    class Kind(models.TextChoices):
        EXAM_RESULTS = "exam_results", _("Exam results")
        GRADUATE_OUTCOMES = "graduate_outcomes", _("Graduate outcomes")

    program = models.ForeignKey("curriculum.Program", on_delete=models.CASCADE, related_name="result_imports")
    kind = models.CharField(max_length=20, choices=Kind.choices)

    class Meta(UploadedImport.Meta):
        pass

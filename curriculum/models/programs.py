from __future__ import annotations

import zoneinfo
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from accounts.models import User

TIME_ZONE_CHOICES = [(name, name) for name in sorted(zoneinfo.available_timezones()) if "/" in name]
code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
    _("Use letters, digits, dots, dashes or underscores, starting with a letter or digit."),
)


class Accreditor(models.TextChoices):
    CAAHEP = "caahep", _("CAAHEP / MAERB")
    ABHES = "abhes", _("ABHES")


class Program(models.Model):
    """A training program, e.g. "Medical Assisting Diploma", and the rules it runs by."""

    code = models.CharField(_("code"), max_length=40, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=200)
    accreditor = models.CharField(_("accreditor"), max_length=10, choices=Accreditor.choices)
    time_zone = models.CharField(_("time zone"), max_length=64, choices=TIME_ZONE_CHOICES, default="America/New_York")
    practicum_hours = models.PositiveIntegerField(
        _("required practicum hours"),
        default=160,
        validators=[MinValueValidator(1)],
        help_text=_("MAERB requires at least 160 contact hours; a program may require more."),
    )
    trigger_course = models.ForeignKey(
        "Course",
        verbose_name=_("trigger course"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Students who complete this course form the admission cohort for retention."),
    )
    require_staff_two_factor = models.BooleanField(
        _("require two-factor sign-in for staff"),
        default=False,
        help_text=_("Directors, coordinators and instructors must set up an authenticator app to continue."),
    )
    framework = models.ForeignKey(
        "curriculum.CompetencyFramework",
        verbose_name=_("competency framework"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="programs",
    )
    passing_score = models.PositiveSmallIntegerField(
        _("default passing score for check-offs (%)"),
        default=80,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("A competency may set its own. A missed critical step fails whatever the score."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("program")
        verbose_name_plural = _("programs")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(practicum_hours__gte=1), name="program_practicum_hours_positive"),
            models.CheckConstraint(
                condition=Q(passing_score__gte=1, passing_score__lte=100), name="program_passing_score_percent"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def today(self) -> date:
        """The date it is now where the program is: due dates and deadlines are local."""
        return timezone.now().astimezone(self.zone).date()


class StaffRole(models.Model):
    class Role(models.TextChoices):
        DIRECTOR = "director", _("Program director")
        COORDINATOR = "coordinator", _("Coordinator")
        INSTRUCTOR = "instructor", _("Instructor")

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="staff_roles")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_roles")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("staff role")
        verbose_name_plural = _("staff roles")
        ordering = ["program", "role", "user__last_name"]
        constraints = [models.UniqueConstraint(fields=["program", "user", "role"], name="staff_role_unique")]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}, {self.program}"


class Cohort(models.Model):
    """A program's intake: students admitted together, expected to graduate together."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="cohorts")
    code = models.CharField(
        _("code"),
        max_length=40,
        validators=[code_validator],
        help_text=_("Short name used in roster files, e.g. 2026-FALL."),
    )
    name = models.CharField(_("name"), max_length=200)
    start_on = models.DateField(_("start date"))
    expected_graduation_on = models.DateField(_("expected graduation"))
    instructors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("instructors"), blank=True, related_name="cohorts_taught"
    )

    class Meta:
        verbose_name = _("cohort")
        verbose_name_plural = _("cohorts")
        ordering = ["program", "-start_on", "name"]
        constraints = [
            models.UniqueConstraint(fields=["program", "code"], name="cohort_code_unique_in_program"),
            models.CheckConstraint(
                condition=Q(expected_graduation_on__gt=F("start_on")), name="cohort_graduates_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Course(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="courses")
    code = models.CharField(_("code"), max_length=40, validators=[code_validator])
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    clock_hours = models.PositiveIntegerField(_("clock hours"), null=True, blank=True)

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        ordering = ["program", "code"]
        constraints = [models.UniqueConstraint(fields=["program", "code"], name="course_code_unique_in_program")]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class CourseOffering(models.Model):
    """A course taught to one cohort, by one instructor, between two dates."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="offerings")
    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="offerings")
    instructor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("instructor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="offerings_taught",
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))

    class Meta:
        verbose_name = _("course offering")
        verbose_name_plural = _("course offerings")
        ordering = ["starts_on", "course__code"]
        constraints = [
            models.UniqueConstraint(fields=["course", "cohort"], name="offering_unique_per_cohort"),
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="offering_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.course.code} — {self.cohort.name}"


class EnrollmentQuerySet(models.QuerySet["Enrollment"]):
    def current(self) -> EnrollmentQuerySet:
        """Students still in the program: neither withdrawn nor graduated."""
        return self.filter(withdrawn_on__isnull=True, graduated_on__isnull=True)

    def for_student(self, student: User) -> EnrollmentQuerySet:
        return self.filter(student=student)


class Enrollment(models.Model):
    """A student in a cohort. Retention and outcomes are computed from these dates, never stored."""

    class Status(models.TextChoices):
        ADMITTED = "admitted", _("Admitted")
        ACTIVE = "active", _("Active")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        GRADUATED = "graduated", _("Graduated")

    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="enrollments")
    cohort = models.ForeignKey(Cohort, on_delete=models.PROTECT, related_name="enrollments")
    student_number = models.CharField(_("student number"), max_length=40, blank=True)
    admitted_on = models.DateField(_("admitted on"))
    trigger_course_completed_on = models.DateField(_("trigger course completed on"), null=True, blank=True)
    withdrawn_on = models.DateField(_("withdrawn on"), null=True, blank=True)
    graduated_on = models.DateField(_("graduated on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = EnrollmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")
        ordering = ["cohort", "student__last_name", "student__first_name"]
        constraints = [
            models.UniqueConstraint(fields=["student", "cohort"], name="enrollment_unique_per_cohort"),
            models.CheckConstraint(
                condition=Q(withdrawn_on__isnull=True) | Q(graduated_on__isnull=True),
                name="enrollment_not_both_withdrawn_and_graduated",
            ),
            models.CheckConstraint(
                condition=Q(withdrawn_on__isnull=True) | Q(withdrawn_on__gte=F("admitted_on")),
                name="enrollment_withdrawn_after_admitted",
            ),
            models.CheckConstraint(
                condition=Q(graduated_on__isnull=True) | Q(graduated_on__gte=F("admitted_on")),
                name="enrollment_graduated_after_admitted",
            ),
            models.CheckConstraint(
                condition=Q(trigger_course_completed_on__isnull=True)
                | Q(trigger_course_completed_on__gte=F("admitted_on")),
                name="enrollment_trigger_course_after_admitted",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student} in {self.cohort}"

    def status_on(self, day: date) -> Enrollment.Status:
        if self.graduated_on and self.graduated_on <= day:
            return self.Status.GRADUATED
        if self.withdrawn_on and self.withdrawn_on <= day:
            return self.Status.WITHDRAWN
        if self.admitted_on > day:
            return self.Status.ADMITTED
        return self.Status.ACTIVE

    @property
    def status(self) -> Enrollment.Status:
        return self.status_on(timezone.localdate())

    @property
    def status_label(self) -> str:
        return str(self.Status(self.status).label)


class Assignment(models.Model):
    class Kind(models.TextChoices):
        HOMEWORK = "homework", _("Homework")
        QUIZ = "quiz", _("Quiz")
        EXAM = "exam", _("Exam")
        LAB = "lab", _("Lab")
        PROJECT = "project", _("Project")
        PARTICIPATION = "participation", _("Participation")

    offering = models.ForeignKey(CourseOffering, on_delete=models.CASCADE, related_name="assignments")
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.HOMEWORK)
    description = models.TextField(_("instructions"), blank=True)
    due_at = models.DateTimeField(_("due"))
    points = models.DecimalField(
        _("points"), max_digits=6, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["due_at", "title"]
        constraints = [models.CheckConstraint(condition=Q(points__gt=0), name="assignment_points_positive")]

    def __str__(self) -> str:
        return self.title


class GradeQuerySet(models.QuerySet["Grade"]):
    def percent(self) -> Decimal | None:
        """Points earned over points possible on what has been graded, in one query."""
        totals = self.aggregate(earned=models.Sum("points_earned"), possible=models.Sum("assignment__points"))
        return Grade.percent_of(totals["earned"] or Decimal(0), totals["possible"] or Decimal(0))


class Grade(models.Model):
    """Points a student earned on an assignment. Coursework grades may be corrected; who and when is kept."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="grades")
    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="grades")
    points_earned = models.DecimalField(_("points earned"), max_digits=6, decimal_places=2)
    comment = models.TextField(_("comment"), blank=True)
    graded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    graded_at = models.DateTimeField(default=timezone.now)

    objects = GradeQuerySet.as_manager()

    class Meta:
        verbose_name = _("grade")
        verbose_name_plural = _("grades")
        constraints = [
            models.UniqueConstraint(fields=["assignment", "enrollment"], name="grade_unique_per_student"),
            models.CheckConstraint(condition=Q(points_earned__gte=0), name="grade_points_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.points_earned} on {self.assignment}"

    @staticmethod
    def percent_of(earned: Decimal, possible: Decimal) -> Decimal | None:
        """A course grade so far: only graded work counts, so ungraded work is not a zero."""
        if not possible:
            return None
        return (earned / possible * 100).quantize(Decimal("0.1"))


class UploadedImport(models.Model):
    """What every import file shares, whatever it holds: the upload, its stored preview, and where
    applying it stands.

    The file is read once, at upload: `rows` keeps its rows as read and `plan` what applying them
    would do, so the preview never reads the file again and applying writes what was previewed.
    Applying runs in the background (curriculum/imports.py): `state` says where it stands, committed
    outside the apply's own transaction so the page can show it while the rows are written."""

    class State(models.TextChoices):
        PREVIEWED = "previewed", _("Previewed")
        QUEUED = "queued", _("Waiting to be imported")
        APPLYING = "applying", _("Being imported")
        APPLIED = "applied", _("Imported")
        FAILED = "failed", _("Not imported")

    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(max_length=255)
    content = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    rows = models.JSONField(null=True, blank=True, editable=False)
    plan = models.JSONField(null=True, blank=True, editable=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PREVIEWED)
    # When the state last changed: a queued or applying upload with no news for a while was lost.
    state_changed_at = models.DateTimeField(null=True, blank=True)
    # What the person chose when they pressed Import, for the task to apply (a roster's invite, say).
    apply_options = models.JSONField(default=dict, blank=True, editable=False)
    # What to tell the person about the last try, in their language: why it failed, or that the
    # preview changed. Empty once applied (the summary says what happened) or never tried.
    outcome = models.JSONField(default=list, blank=True, editable=False)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.file_name

    def preview_is_current(self) -> bool:
        """A preview may be applied once, for IMPORT_PREVIEW_HOURS after the upload: later it shows a
        picture of the records too old to act on, and its stored rows are cleared to save space."""
        return (
            self.plan is not None
            and self.applied_at is None
            and self.created_at >= timezone.now() - timedelta(hours=settings.IMPORT_PREVIEW_HOURS)
        )

    @property
    def is_running(self) -> bool:
        """Queued or being applied, as far as the database knows (see imports.has_stalled)."""
        return self.state in (self.State.QUEUED, self.State.APPLYING)


class RosterImport(UploadedImport):
    """An uploaded roster, cohorts or courses file: previewed first, applied once the person who
    uploaded it confirms."""

    class Kind(models.TextChoices):
        ROSTER = "roster", _("Roster")
        COHORTS = "cohorts", _("Cohorts")
        COURSES = "courses", _("Courses")

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="roster_imports")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.ROSTER)
    skip_bad_rows = models.BooleanField(default=False)
    # Chosen at upload: the plan of rows naming unknown intakes depends on it.
    create_cohorts = models.BooleanField(default=False)
    # Chosen when applying; null until then.
    invited = models.BooleanField(null=True, blank=True)
    # The intakes the file names that the program lacks, with the dates they would get (`roster.NewCohort`).
    new_cohorts = models.JSONField(default=list, blank=True, editable=False)

    class Meta(UploadedImport.Meta):
        pass

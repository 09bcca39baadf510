from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from curriculum.models import (
    Assignment,
    ChecklistStep,
    Cohort,
    Competency,
    CompetencyFramework,
    ContentArea,
    Course,
    CourseOffering,
    Domain,
    Enrollment,
    Program,
    Setting,
    StaffRole,
    code_validator,
)
from curriculum.services.frameworks import check_framework_change


class ItemsField(forms.CharField):
    """A list typed as text: "family medicine, pediatrics", or one item a line with `separator="\\n"`.

    Each item is trimmed, its inner spaces collapsed; blank items and repeats (ignoring case) are left
    out, and an item longer than `item_max_length` is refused by name. A NUL is refused before the text
    is split: Django checks a CharField for NUL on `str(value)`, which for a list is its repr, where a
    NUL is written as the four characters `\\x00`; so it passed, and PostgreSQL refused the row (a 500).
    Every field that takes a list as text uses this one, so the check is made in one place."""

    default_error_messages = {
        "null_characters_not_allowed": _("%(field)s: remove the null character; it cannot be stored."),
        "item_too_long": _("%(field)s: “%(item)s” is too long, at most %(limit)s characters each."),
    }

    def __init__(self, *, item_max_length: int, separator: str = ",", **kwargs: Any) -> None:
        self.item_max_length = item_max_length
        self.separator = separator
        if separator == "\n":
            kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 6}))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return "\n".join(value) if self.separator == "\n" else ", ".join(value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        if "\x00" in text:
            raise ValidationError(
                self.error_messages["null_characters_not_allowed"],
                code="null_characters_not_allowed",
                params={"field": self.label},
            )
        parts = text.splitlines() if self.separator == "\n" else text.split(self.separator)
        items: dict[str, str] = {}
        for part in parts:
            item = " ".join(part.split())
            if item:
                items.setdefault(item.casefold(), item)
        return list(items.values())

    def validate(self, value: Any) -> None:
        super().validate(value)
        for item in value:
            if len(item) > self.item_max_length:
                raise ValidationError(
                    self.error_messages["item_too_long"],
                    code="item_too_long",
                    params={"field": self.label, "item": Truncator(item).chars(50), "limit": self.item_max_length},
                )


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def program_instructors(program: Program) -> QuerySet[User]:
    return User.objects.filter(staff_roles__program=program, staff_roles__role=StaffRole.Role.INSTRUCTOR).distinct()


class ScopedModelForm(forms.ModelForm):
    """A form whose instance is tied to a parent set in __init__ (its program, its cohort).

    Django skips constraints on fields the form does not show; these parents are known, so the
    unique constraints that involve them are checked too and refused with a message on the form."""

    scoped_fields: tuple[str, ...] = ()

    def _get_validation_exclusions(self) -> set[str]:
        return super()._get_validation_exclusions() - set(self.scoped_fields)  # type: ignore[misc]


class ProgramForm(forms.ModelForm):
    class Meta:
        model = Program
        fields = [
            "code",
            "name",
            "accreditor",
            "time_zone",
            "practicum_hours",
            "trigger_course",
            "require_staff_two_factor",
            "framework",
            "passing_score",
        ]
        help_texts = {
            "framework": _(
                "A shared reference framework, or one of the program's own. It cannot change once check-offs "
                "were recorded against it."
            )
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Shared references, and frameworks this program owns: never another program's own.
        frameworks = CompetencyFramework.objects.filter(owner__isnull=True)
        if self.instance.pk:
            self.fields["trigger_course"].queryset = Course.objects.filter(program=self.instance)  # type: ignore[attr-defined]
            frameworks = CompetencyFramework.objects.filter(Q(owner__isnull=True) | Q(owner=self.instance))
        else:
            del self.fields["trigger_course"]
        self.fields["framework"].queryset = frameworks  # type: ignore[attr-defined]
        self.fields["passing_score"].required = False  # left empty: the current score, 80% for a new program

    def clean_passing_score(self) -> int:
        return self.cleaned_data.get("passing_score") or self.instance.passing_score

    def clean_framework(self) -> CompetencyFramework | None:
        """Switching frameworks is refused once attempts exist (services.check_framework_change says why)."""
        framework: CompetencyFramework | None = self.cleaned_data.get("framework")
        try:
            check_framework_change(program=self.instance, framework=framework)
        except ValidationError as refusal:
            raise forms.ValidationError(refusal.messages) from refusal
        return framework


class StaffMemberForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    role = forms.ChoiceField(label=_("Role"), choices=StaffRole.Role.choices)


class CohortForm(ScopedModelForm):
    scoped_fields = ("program",)

    class Meta:
        model = Cohort
        fields = ["code", "name", "start_on", "expected_graduation_on", "instructors"]
        widgets = {
            "start_on": DateInput(),
            "expected_graduation_on": DateInput(),
            "instructors": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args: Any, program: Program, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.program = program
        self.fields["instructors"].queryset = program_instructors(program)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start_on"), data.get("expected_graduation_on")
        if start and end and end <= start:
            self.add_error("expected_graduation_on", _("Graduation must come after the start date."))
        return data


class CourseForm(ScopedModelForm):
    scoped_fields = ("program",)

    class Meta:
        model = Course
        fields = ["code", "title", "description", "clock_hours"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, program: Program, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.program = program


class OfferingForm(ScopedModelForm):
    scoped_fields = ("cohort",)

    class Meta:
        model = CourseOffering
        fields = ["course", "instructor", "starts_on", "ends_on"]
        widgets = {"starts_on": DateInput(), "ends_on": DateInput()}

    def __init__(self, *args: Any, cohort: Cohort, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.cohort = cohort
        self.fields["course"].queryset = Course.objects.filter(program=cohort.program)  # type: ignore[attr-defined]
        self.fields["instructor"].queryset = program_instructors(cohort.program)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("starts_on"), data.get("ends_on")
        if start and end and end < start:
            self.add_error("ends_on", _("The end date comes before the start date."))
        return data


class EnrollmentForm(forms.ModelForm):
    class Meta:
        model = Enrollment
        fields = ["student_number", "admitted_on", "trigger_course_completed_on", "withdrawn_on", "graduated_on"]
        widgets = {
            "admitted_on": DateInput(),
            "trigger_course_completed_on": DateInput(),
            "withdrawn_on": DateInput(),
            "graduated_on": DateInput(),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        admitted = data.get("admitted_on")
        if data.get("withdrawn_on") and data.get("graduated_on"):
            self.add_error("graduated_on", _("A student cannot be both withdrawn and graduated."))
        for field in ("trigger_course_completed_on", "withdrawn_on", "graduated_on"):
            if admitted and data.get(field) and data[field] < admitted:
                self.add_error(field, _("This date is before the admission date."))
        return data


class AssignmentForm(forms.ModelForm):
    class Meta:
        model = Assignment
        fields = ["title", "kind", "due_at", "points", "description"]
        widgets = {"due_at": DateTimeInput(), "description": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"due_at": _("In the program's time zone.")}


class GradeForm(forms.Form):
    points_earned = forms.DecimalField(label=_("Points"), max_digits=6, decimal_places=2, required=False, min_value=0)


class RosterUploadForm(forms.Form):
    file = forms.FileField(label=_("Roster file (.csv or .xlsx)"))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise forms.ValidationError(_("The file must be a .csv or .xlsx file."))
        if upload.size > settings.ROSTER_UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(limit)s MB.")
                % {"limit": settings.ROSTER_UPLOAD_MAX_BYTES // (1024 * 1024)}
            )
        return upload


class SetupUploadForm(RosterUploadForm):
    """A cohorts, courses, exam results or graduate outcomes file: the roster's checks (every interchange
    file is held to one size), under its own label."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].label = _("File (.csv or .xlsx)")


class ApplyRosterForm(forms.Form):
    skip_bad_rows = forms.BooleanField(label=_("Skip the rows with errors and import the rest"), required=False)
    # An unticked box sends nothing, so the default on shows only on the page, never on a bare post.
    invite = forms.BooleanField(
        label=_("Email an invitation to the current students not invited yet"),
        help_text=_("Withdrawn and graduated students are never invited."),
        required=False,
        initial=True,
    )


class RosterIntakesForm(forms.Form):
    create_cohorts = forms.BooleanField(label=_("Create the missing intakes"), required=False)


class CheckoffPickForm(forms.Form):
    enrollment: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Student"), queryset=Enrollment.objects.none()
    )
    competency: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Competency"), queryset=Competency.objects.none()
    )

    def __init__(
        self, *args: Any, enrollments: QuerySet[Enrollment], competencies: list[Competency], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["enrollment"].queryset = enrollments  # type: ignore[attr-defined]
        self.fields["enrollment"].label_from_instance = lambda enrollment: enrollment.student.sortable_name  # type: ignore[attr-defined]
        self.fields["competency"].queryset = Competency.objects.filter(pk__in=[c.pk for c in competencies])  # type: ignore[attr-defined]
        self.fields["competency"].label_from_instance = lambda competency: f"{competency.code} {competency.label}"  # type: ignore[attr-defined]


class CheckoffForm(forms.Form):
    steps = forms.MultipleChoiceField(label=_("Steps performed"), required=False, widget=forms.CheckboxSelectMultiple)
    setting = forms.ChoiceField(
        label=_("Setting"), choices=Setting.choices, initial=Setting.LAB, widget=forms.RadioSelect
    )
    performed_at = forms.DateTimeField(
        label=_("Performed"), required=False, widget=DateTimeInput(), help_text=_("Empty: now.")
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when the attempt fails. Never write patient identifiers."),
    )

    def __init__(self, *args: Any, steps: list[ChecklistStep], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["steps"].choices = [(str(step.pk), step.text) for step in steps]  # type: ignore[attr-defined]


class RevocationForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for revoking"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, strip=True
    )


# --- Frameworks, checklists, course mapping ---------------------------------------------------------


class CompetencyForm(forms.Form):
    """A framework row as a director confirms or corrects it; saved through services, not by the form."""

    code = forms.CharField(
        label=_("Code"),
        max_length=40,
        validators=[code_validator],
        help_text=_("As the accreditor writes it, e.g. I.P.1.a."),
    )
    title = forms.CharField(label=_("Title"), max_length=300)
    domain = forms.ChoiceField(label=_("Domain"), choices=Domain.choices)
    tags = ItemsField(
        label=_("Exam domains"),
        item_max_length=40,  # the length of the column's items (Competency.tags)
        required=False,
        help_text=_("Separated by commas, e.g. vitals, phlebotomy."),
    )
    is_tracked = forms.BooleanField(
        label=_("Signed off on its own"),
        required=False,
        help_text=_("Off for a heading whose lettered sub-items are signed off instead."),
    )
    passing_score = forms.IntegerField(label=_("Passing score (%)"), required=False, min_value=1, max_value=100)

    def __init__(self, *args: Any, program: Program, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["passing_score"].help_text = _("Empty: the program's default, %(score)s%%.") % {
            "score": program.passing_score
        }

    @staticmethod
    def initial_for(competency: Competency) -> dict[str, Any]:
        return {name: getattr(competency, name) for name in CompetencyForm.base_fields}


class CompetencyCreateForm(CompetencyForm):
    """A program's own competency, in a content area of its framework."""

    content_area: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Content area"), queryset=ContentArea.objects.none()
    )
    parent: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Under the heading"),
        queryset=Competency.objects.none(),
        required=False,
        help_text=_("For a lettered sub-item: the competency it belongs to, in the same content area."),
    )

    field_order = ["content_area", "parent", "code", "title", "domain", "tags", "is_tracked", "passing_score"]

    def __init__(self, *args: Any, program: Program, **kwargs: Any) -> None:
        super().__init__(*args, program=program, **kwargs)
        self.fields["content_area"].queryset = ContentArea.objects.filter(  # type: ignore[attr-defined]
            framework_id=program.framework_id
        ).order_by("order", "code")
        self.fields["parent"].queryset = (  # type: ignore[attr-defined]
            Competency.objects.for_program(program).filter(parent__isnull=True).order_by("content_area__order", "order")
        )
        self.fields["parent"].label_from_instance = lambda competency: f"{competency.code} {competency.title}"  # type: ignore[attr-defined]
        self.fields["is_tracked"].initial = True


class CompetencyCoursesForm(forms.Form):
    teaching: forms.ModelMultipleChoiceField[Any] = forms.ModelMultipleChoiceField(
        label=_("Taught in"), queryset=Course.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    assessing: forms.ModelMultipleChoiceField[Any] = forms.ModelMultipleChoiceField(
        label=_("Assessed in"), queryset=Course.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, courses: QuerySet[Course], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["teaching"].queryset = courses  # type: ignore[attr-defined]
        self.fields["assessing"].queryset = courses  # type: ignore[attr-defined]


class ChecklistStepForm(forms.Form):
    text = forms.CharField(label=_("Step"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    points = forms.IntegerField(label=_("Points"), min_value=1, max_value=100, initial=1)
    is_critical = forms.BooleanField(
        label=_("Critical"),
        required=False,
        help_text=_("Missing a critical step fails the attempt whatever the score."),
    )
